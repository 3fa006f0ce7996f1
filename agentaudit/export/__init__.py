"""SIEM-ready exports, derived from stored findings and events (never from raw sources)."""
