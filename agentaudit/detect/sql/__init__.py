"""Built-in detectors: one module each, with its positive and negative tests beside it."""
