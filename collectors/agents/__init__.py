"""Coding-agent collectors: transcripts, hook logs and telemetry, one format a module."""
