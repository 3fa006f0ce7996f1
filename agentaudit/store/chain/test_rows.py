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


def test_a_column_null_in_every_row_of_a_batch_hashes_as_when_its_values_are_read():
    """The writer writes such a column as the NULL literal (cheaper): the text must not move."""
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE t (a VARCHAR, b INTEGER, c VARCHAR[], d TIMESTAMPTZ, e VARCHAR[][])"
        )
        batch = pa.table(
            {
                "a": ["k", "l"],
                "b": pa.array([None, None], pa.int32()),
                "c": pa.array([None, None], pa.list_(pa.string())),
                "d": pa.array([None, None], pa.timestamp("us", tz="UTC")),
                "e": pa.array([[["x"]], None], pa.list_(pa.list_(pa.string()))),
            }
        )
        assert rows.non_null_columns(batch) == ["a", "e"]
        con.execute("INSERT INTO t BY NAME SELECT * FROM batch")
        names = rows.columns(con, "t")
        from_batch = con.execute(
            f"SELECT {rows.canonical_sql(names, 'b', rows.non_null_columns(batch))} FROM batch b"
        ).fetchall()
        stored = con.execute(f"SELECT {rows.canonical_sql(names, 't')} FROM t t").fetchall()
    assert from_batch == stored
    assert stored[1] == ('{"a":"l","b":null,"c":null,"d":null,"e":null}',)


def test_the_canonical_text_of_known_values_is_pinned():
    """The text is DuckDB's `to_json`: a DuckDB upgrade that changed it would make every chained
    row look changed, so the text and hash of a row of every kind of value are pinned here."""
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")  # as the store sets it
        con.execute(
            "CREATE TABLE t (s VARCHAR, i INTEGER, n BIGINT, b BOOLEAN, ts TIMESTAMPTZ, "
            "l VARCHAR[], ll VARCHAR[][], z VARCHAR)"
        )
        con.execute(
            "INSERT INTO t VALUES (?, -7, 9007199254740993, true, "
            "TIMESTAMPTZ '2026-04-25 09:00:00.123456+00', ['a', 'b c'], [['rm', '-rf', '/']], "
            "NULL)",
            ['say "hi"\\ naïve ✓\n\t'],
        )
        text, row_hash = con.execute(
            f"SELECT {rows.canonical_sql(rows.columns(con, 't'), 't')} AS c, sha256(c) FROM t t"
        ).fetchall()[0]
    assert text == (
        '{"b":true,"i":-7,"l":["a","b c"],"ll":[["rm","-rf","/"]],"n":9007199254740993,'
        '"s":"say \\"hi\\"\\\\ naïve ✓\\n\\t","ts":"2026-04-25 09:00:00.123456+00","z":null}'
    )
    assert row_hash == "51f6951ecb316d6ffec6817b6932f69efc1b9de79609f627411726702007c677"
    assert rows.sha256_each(pa.chunked_array([[text]])) == [row_hash]
