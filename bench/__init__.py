"""Benchmarks: our work side by side with a baseline on the same data, as ratios."""
