"""Run mutated samples through every collector's parse path and the command analyser.

For each input: the collector's own `collect` (no safety net: an exception here is a bug to
fix at its root), then what ingest does with its outputs (enrichment and the Arrow schema:
an event they refuse is coerced or quarantined alone; each quarantined record must make a
quarantine row). Counted per collector: inputs, events, quarantined records (with the events
ingest refused), crashes (an exception out of `collect` or out of that storage path), hangs
(over `HANG_SECONDS`), unstorable batches (the storage path raised) and silent inputs
(non-blank input with no output at all: not accounted for).
"""

from __future__ import annotations

import gzip
import json
import random
import signal
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from agentaudit.collectors import get_collector
from agentaudit.collectors.base import SourceInput
from agentaudit.enrich.commands import analyze_command
from agentaudit.enrich.secrets import NoSecrets
from agentaudit.ingest.records import quarantine_row, storable
from agentaudit.schema import Quarantined
from tests.fuzzing.mutations import mutate
from tests.fuzzing.seeds import Seed, all_seeds

HANG_SECONDS = 5.0
ANALYSER = "command-analyser"
# formats whose records sit among free text (command output, chat prose): text without a
# record in it is no record, not an unaccounted input
FREE_TEXT = frozenset({"shell.powershell_transcript", "aider.history"})
_NO_SECRETS = NoSecrets(b"")


class Hang(BaseException):  # not an Exception: no collector's `except Exception` swallows it
    pass


@dataclass
class Tally:
    target: str
    inputs: int = 0
    events: int = 0
    quarantined: int = 0
    crashes: int = 0
    hangs: int = 0
    unstorable: int = 0
    silent: int = 0
    slowest: float = 0.0
    examples: list[str] = field(default_factory=list)  # the first few failures, reproducible

    @property
    def failures(self) -> int:
        return self.crashes + self.hangs + self.unstorable + self.silent

    def add(self, other: Tally) -> None:
        for name in ("inputs", "events", "quarantined", "crashes", "hangs", "unstorable", "silent"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.slowest = max(self.slowest, other.slowest)
        self.examples += other.examples[: max(0, 5 - len(self.examples))]

    def note(self, kind: str, where: str, detail: str) -> None:
        if len(self.examples) < 5:
            self.examples.append(f"{kind} at {where}: {detail}")


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    def expire(_signum: int, _frame: object) -> None:
        raise Hang

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def inputs(target: str, count: int, seed: int) -> Iterator[tuple[int, Seed, bytes]]:
    """`count` mutated inputs for a collector, reproducible from (target, seed)."""
    seeds = all_seeds()[target]
    rng = random.Random(f"{target}:{seed}")
    for index in range(count):
        sample = rng.choice(seeds)
        if sample.gzip and rng.random() < 0.5:
            data = mutate(gzip.compress(sample.data, mtime=0), rng)  # damaged compression
        else:
            data = mutate(sample.data, rng)
            if sample.gzip and rng.random() < 0.8:
                data = gzip.compress(data, mtime=0)
        yield index, sample, data


MEMORY_LIMIT = 2 << 30  # per worker: a memory blow-up is a MemoryError (a crash), not OOM


def run_task(task: tuple[str, int, int]) -> Tally:
    """One chunk of a campaign, (target, seed, count): what a pool worker runs."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    target, seed, count = task
    return fuzz_analyser(count, seed) if target == ANALYSER else fuzz_collector(target, count, seed)


def fuzz_collector(target: str, count: int, seed: int = 0) -> Tally:
    collector = get_collector(target)
    tally = Tally(target)
    with tempfile.TemporaryDirectory(prefix="agentaudit-fuzz-") as work:
        for index, sample, data in inputs(target, count, seed):
            where = f"{target} seed {seed} input {index} ({Path(sample.origin).name})"
            path = Path(work) / (sample.name + (".gz" if data[:2] == b"\x1f\x8b" else ""))
            path.write_bytes(data)
            tally.inputs += 1
            started = time.perf_counter()
            try:
                with deadline(HANG_SECONDS), path.open("rb") as fh:
                    outputs = list(collector.collect(SourceInput(str(path), fh)))
            except Hang:
                tally.hangs += 1
                tally.note("hang", where, f"over {HANG_SECONDS} s")
                continue
            except (Exception, MemoryError) as exc:
                tally.crashes += 1
                tally.note("crash", where, _last_frame(exc))
                continue
            finally:
                tally.slowest = max(tally.slowest, time.perf_counter() - started)
                path.unlink(missing_ok=True)
            _account(tally, collector, str(path), data, outputs, where)
    return tally


def _account(tally: Tally, collector, path: str, data: bytes, outputs: list, where: str) -> None:
    events = [o for o in outputs if not isinstance(o, Quarantined)]
    quarantined = [o for o in outputs if isinstance(o, Quarantined)]
    if not outputs and _has_content(data) and collector.name not in FREE_TEXT:
        tally.silent += 1
        tally.note("silent", where, repr(data[:120]))
    try:
        with deadline(HANG_SECONDS):
            table, refused = storable(events, _NO_SECRETS)
    except Hang:
        tally.hangs += 1
        tally.note("hang", where, "in enrichment")
        return
    except Exception as exc:
        tally.unstorable += 1
        tally.note("unstorable", where, _last_frame(exc))
        return
    quarantined += refused
    tally.events += table.num_rows if table is not None else 0
    tally.quarantined += len(quarantined)
    for q in quarantined:
        try:
            quarantine_row(q, collector, path, _NO_SECRETS)
        except Exception as exc:
            tally.crashes += 1
            tally.note("crash", where, f"quarantine row: {_last_frame(exc)}")


def _has_content(data: bytes) -> bool:
    """Anything but whitespace, NUL bytes, a bare gzip wrapper of those, or well-formed JSON
    that holds no record (`[]`, `"edges": null`, an OTLP resource with no scopes)."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            return False  # no record inflates: the read error is the file's report
    text = data.replace(b"\x00", b"").strip()
    if not text:
        return False
    try:
        documents = [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError:
        return True
    return not all(_record_free(document) for document in documents)


_METADATA = frozenset({"resource", "scope", "attributes", "schemaUrl"})  # OTLP: not records


def _record_free(value: object, inside: bool = False) -> bool:
    """True when no list holds a value: every record of these formats is a list element."""
    if isinstance(value, list):
        return all(_record_free(item, True) for item in value)
    if isinstance(value, dict):
        return all(_record_free(v, inside) for k, v in value.items() if k not in _METADATA)
    return not inside or value is None


def fuzz_analyser(count: int, seed: int = 0) -> Tally:
    """Mutated commands (from the command corpora) through the command analyser."""
    commands = [s.data for s in _command_seeds()]
    rng = random.Random(f"{ANALYSER}:{seed}")
    tally = Tally(ANALYSER)
    for index in range(count):
        data = mutate(rng.choice(commands), rng)
        text = data.decode("utf-8", "surrogateescape")
        where = f"{ANALYSER} seed {seed} input {index}"
        tally.inputs += 1
        started = time.perf_counter()
        try:
            with deadline(HANG_SECONDS):
                analysis = analyze_command(text)
        except Hang:
            tally.hangs += 1
            tally.note("hang", where, repr(data[:120]))
            continue
        except Exception as exc:
            tally.crashes += 1
            tally.note("crash", where, _last_frame(exc))
            continue
        finally:
            tally.slowest = max(tally.slowest, time.perf_counter() - started)
        tally.events += 1
        tally.quarantined += analysis.unparsed
    return tally


def _command_seeds() -> list[Seed]:
    from tests.fuzzing.seeds import _commands, corpus_dir

    roots = [r for r in (corpus_dir(),) if r is not None]
    return [
        Seed("command", c.encode("utf-8", "surrogateescape"), "commands")
        for c in _commands(roots, 2000)
    ]


def _last_frame(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1] if frames else None
    place = f"{Path(last.filename).name}:{last.lineno}" if last else "?"
    return f"{type(exc).__name__}: {str(exc)[:160]} ({place})"
