"""A small seeded slice of `make fuzz` (tests/fuzzing): mutated real samples through every
collector's parse path and the command analyser; no crash, no hang, every input accounted
for as events or quarantine. The bounded campaign (100,000 inputs each) runs outside."""

from __future__ import annotations

import pytest

from agentaudit.collectors import all_collectors
from tests.fuzzing.run import ANALYSER, fuzz_analyser, fuzz_collector
from tests.fuzzing.seeds import all_seeds

INPUTS_PER_COLLECTOR = 20


@pytest.mark.parametrize("name", sorted(all_collectors()))
def test_mutated_samples_never_crash_a_collector(name, corpus):
    if not all_seeds().get(name):
        pytest.skip(f"no sample of {name} in the corpus or tests/data")
    tally = fuzz_collector(name, INPUTS_PER_COLLECTOR, seed=0)
    assert tally.inputs == INPUTS_PER_COLLECTOR
    assert tally.failures == 0, tally.examples
    assert tally.events + tally.quarantined > 0


def test_mutated_commands_never_crash_the_analyser(corpus):
    tally = fuzz_analyser(INPUTS_PER_COLLECTOR, seed=0)
    assert (tally.inputs, tally.events, tally.failures) == (20, 20, 0), tally.examples
    assert tally.target == ANALYSER
