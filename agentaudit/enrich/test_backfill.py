"""Rows stored before the enriched columns existed get the values enrichment gives new rows."""

from __future__ import annotations

from agentaudit.enrich.backfill import fill_enriched_columns
from agentaudit.ingest import ingest_paths
from agentaudit.scenarios import scenario_files
from agentaudit.scenarios.replay import scenario_names

COLUMNS = ("origin", "provider", "argvs", "env_clues", "instructions")


def test_filled_columns_equal_what_ingest_stores(store, redactor):
    for name in scenario_names():
        ingest_paths(store, scenario_files(name), redactor=redactor)
    select = f"SELECT event_id, {', '.join(COLUMNS)} FROM events ORDER BY event_id"
    ingested = store.rows(select)
    for column in COLUMNS:  # every column has values to rebuild
        assert any(row[column] for row in ingested), column
    store.con.execute(f"UPDATE events SET {', '.join(f'{c} = NULL' for c in COLUMNS)}")
    filled = fill_enriched_columns(store.con)
    assert store.rows(select) == ingested
    assert filled["origin"] == store.count("events")
    assert fill_enriched_columns(store.con) == dict.fromkeys(filled, 0)  # once only
