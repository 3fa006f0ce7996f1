"""Pulling audit logs from provider APIs (Railway)."""
