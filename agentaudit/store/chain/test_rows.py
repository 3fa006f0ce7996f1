import duckdb
import pyarrow as pa

from agentaudit.store.chain import rows


def test_sha256_each_is_what_duckdb_gives_for_any_text_and_slice():
    texts = ["", "plain", "naïve — ünïcode ✓", '{"a":null}', "x" * 5000]
    sliced = pa.chunked_array([pa.array(texts[:2]), pa.array(texts).slice(1)])
    large = pa.chunked_array([pa.array(texts, pa.large_string())])
    with duckdb.connect() as con:
        for column in (sliced, large):
            expected = [
                con.execute("SELECT sha256(?)", [text]).fetchall()[0][0]
                for text in column.to_pylist()
            ]
            assert rows.sha256_each(column) == expected


def test_a_column_missing_from_a_batch_hashes_as_the_null_it_is_stored_as():
    with duckdb.connect() as con:
        con.execute("CREATE TABLE t (a VARCHAR, b INTEGER, c VARCHAR[])")
        batch = pa.table({"c": [["x"]], "a": ["k"]})  # noqa: F841 - read by name in SQL
        con.execute("INSERT INTO t BY NAME SELECT * FROM batch")
        names = rows.columns(con, "t")
        from_batch = con.execute(
            f"SELECT {rows.canonical_sql(names, 'b', ['a', 'c'])} FROM batch b"
        ).fetchall()
        stored = con.execute(f"SELECT {rows.canonical_sql(names, 't')} FROM t t").fetchall()
    assert from_batch == stored == [('{"a":"k","b":null,"c":["x"]}',)]
