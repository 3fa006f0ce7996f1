"""Sigma rules on DuckDB: our own small pySigma backend, correlation SQL, loading and tests.

pysigma-backend-duckdb matches case-sensitively and ignores correlation timespans, so the
backend here is ours: every string comparison is `ILIKE ... ESCAPE '\\'` with `%`/`_`
escaped, list columns (categories) match any element, and correlations are window queries.
"""
