"""One owner of the store (issue 23): while `watch` or `serve` holds the DuckDB file, the other
commands are answered by it over a unix socket beside the store.

`server.py` runs in the owning process; `client.py` finds it for a store and gives the CLI and
the dashboard a store-like object; `commands.py` holds the commands that write, as library
functions of a store; `sql_gate.py` decides which SQL a reader may send.
"""
