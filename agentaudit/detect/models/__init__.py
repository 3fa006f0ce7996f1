"""Model detectors: what no rule anticipated, scored against a learned baseline."""
