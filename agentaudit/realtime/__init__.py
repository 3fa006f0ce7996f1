"""Real time: `watch` (ingest, detect and page as files grow) and `guard` (before a call runs)."""
