"""Enrichment, once, before storage: redaction, command analysis, provider catalogs, environments."""
