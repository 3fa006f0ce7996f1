"""Fuzzing as a habit: mutated real samples through every collector and the command analyser.

`make fuzz` (`python -m tests.fuzzing`) runs a bounded campaign outside the unit suite;
`tests/test_fuzz_slice.py` runs a small seeded slice of it in `make test`.
"""
