"""Receivers: what arrives while agents work (hook payloads, OTLP, provider API pulls)."""
