"""Databases: SQL and NoSQL text passed to clients (-c, -e, --eval, heredocs, stdin)."""

from __future__ import annotations

import re

from agentaudit.enrich.commands.model import Finding
from agentaudit.enrich.commands.parse import SimpleCommand
from agentaudit.enrich.commands.programs.base import Context

_STRINGS = re.compile(r"'(?:[^'\\]|\\.|'')*'")
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_SQL_RULES: list[tuple[str, re.Pattern[str], str, str, str]] = [
    ("sql.drop", re.compile(r"\bdrop\s+(table|database|schema|collection|keyspace|index|view|user|role|tablespace|materialized\s+view)\b", re.I), "db_destroy", "high", "DROP removes a database object and its data"),
    ("sql.truncate", re.compile(r"\btruncate\s+(table\s+)?[\w.\"`]+", re.I), "db_destroy", "high", "TRUNCATE empties a table"),
    ("sql.delete-all", re.compile(r"\bdelete\s+from\s+[\w.\"`-]+\s*(;|$|\))(?![^;]*\bwhere\b)", re.I), "db_destroy", "high", "DELETE without WHERE removes every row"),
    ("sql.update-all", re.compile(r"\bupdate\s+[\w.\"`]+\s+set\s+[^;]*?(;|$)(?<!where)", re.I), "data_overwrite", "medium", "UPDATE without WHERE rewrites every row"),
    ("sql.alter-drop", re.compile(r"\balter\s+table\s+[\w.\"`]+\s+drop\b", re.I), "db_destroy", "medium", "ALTER TABLE ... DROP removes a column or constraint"),
    ("sql.grant-all", re.compile(r"\bgrant\s+all\b[^;]*\bon\s+\*\.\*", re.I), "privilege_change", "medium", "GRANT ALL hands out every privilege"),
    ("nosql.flush", re.compile(r"\bflush(all|db)\b", re.I), "db_destroy", "high", "FLUSHALL/FLUSHDB deletes every key"),
    ("nosql.drop-database", re.compile(r"\.(dropDatabase|drop)\s*\(|\bdb\.dropAllUsers\b", re.I), "db_destroy", "high", "dropDatabase()/drop() removes a database or collection"),
    ("nosql.delete-many-all", re.compile(r"\.(deleteMany|remove)\s*\(\s*\{\s*\}\s*\)", re.I), "db_destroy", "high", "deleteMany({}) removes every document"),
]  # fmt: skip
_SQL_FLAGS = {
    "psql": ("-c", "--command"),
    "mysql": ("-e", "--execute"),
    "mariadb": ("-e", "--execute"),
    "mongosh": ("--eval",),
    "mongo": ("--eval",),
    "clickhouse-client": ("-q", "--query"),
    "clickhouse": ("-q", "--query"),
    "cqlsh": ("-e", "--execute"),
    "sqlcmd": ("-Q", "-q"),
    "cockroach": ("-e", "--execute"),
    "duckdb": ("-c",),
    "snowsql": ("-q", "--query"),
    "bq": ("query",),
}


_EXPLAIN_ONLY = re.compile(r"(?is)^\s*explain\b(?!\s*(\(\s*)?analy[sz]e)[^;]*(;|$)")
# WHERE clauses every row satisfies: WHERE TRUE, WHERE 1=1, WHERE 'a'='a', WHERE 1
_TAUTOLOGY = re.compile(r"(?i)\bwhere\s+(true|1|(\w+|''|\d+)\s*=\s*\2|not\s+false)\s*(;|$|\))")


def classify_sql(text: str, rule_prefix: str = "") -> list[Finding]:
    text = _TAUTOLOGY.sub(r"\3", text)  # a WHERE that keeps nothing out is no WHERE
    body = _COMMENTS.sub(" ", _STRINGS.sub("''", text))
    # EXPLAIN without ANALYZE only plans the statement
    body = ";".join(s for s in body.split(";") if not _EXPLAIN_ONLY.match(s + ";"))
    findings = []
    for rule_id, pattern, category, severity, reason in _SQL_RULES:
        for statement in re.split(r";", body) if rule_id == "sql.delete-all" else [body]:
            if rule_id == "sql.delete-all":
                statement = statement.strip() + ";"
            if rule_id == "sql.update-all" and re.search(r"\bwhere\b", statement, re.I):
                continue
            match = pattern.search(statement)
            if match:
                findings.append(
                    Finding(rule_prefix + rule_id, category, severity, reason,
                            operation=match.group(0).strip()[:60])
                )  # fmt: skip
                break
    return findings


def sql_client(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    texts: list[str] = []
    args = cmd.argv[1:]
    flags = _SQL_FLAGS.get(cmd.program, ())
    for i, arg in enumerate(args):
        for flag in flags:
            if arg == flag and i + 1 < len(args):
                texts.append(args[i + 1])
            elif arg.startswith(flag + "=") or (
                len(flag) == 2
                and arg.startswith(flag)
                and len(arg) > 2
                and not arg.startswith("--")
            ):
                texts.append(arg.split("=", 1)[1] if arg.startswith(flag + "=") else arg[2:])
    if cmd.program in ("sqlite3", "sqlite", "duckdb", "bq"):
        texts += [a for a in args if not a.startswith("-")][1:]
    if cmd.stdin:
        texts.append(cmd.stdin)
    findings = []
    for text in texts:
        findings += classify_sql(text)
    return findings


def bq(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    from agentaudit.enrich.commands import packs

    return sql_client(cmd, ctx) + packs.match(cmd)


def redis_cli(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    words = [a.lower() for a in cmd.argv[1:]]
    value_flags = {"-h", "-p", "-a", "-n", "-u", "--user", "--pass", "-s", "-r", "-i"}
    positional = []
    i = 0
    while i < len(words):
        if words[i] in value_flags:
            i += 2
            continue
        if not words[i].startswith("-"):
            positional.append(words[i])
        i += 1
    text = " ".join(positional) + "\n" + (cmd.stdin or "")
    findings = classify_sql(text)
    if positional[:1] == ["del"] or positional[:1] == ["unlink"]:
        findings.append(Finding("redis.del", "db_destroy", "medium", "redis DEL removes keys",
                                operation="redis DEL", target=" ".join(positional[1:3])))  # fmt: skip
    if positional[:2] == ["config", "set"] and "dir" in positional:
        findings.append(Finding("redis.config-dir", "data_overwrite", "high",
                                "redis CONFIG SET dir can overwrite files", operation="CONFIG SET"))  # fmt: skip
    return findings


def bare_sql(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    """`DROP TABLE users;` typed as a command (in a SQL shell transcript)."""
    return classify_sql(" ".join(cmd.argv))


PROGRAMS = {name: sql_client for name in [*_SQL_FLAGS, "sqlite3", "sqlite"]} | {
    "bq": bq,
    "redis-cli": redis_cli,
    "valkey-cli": redis_cli,
    "drop": bare_sql,
    "grant": bare_sql,
    "delete": bare_sql,
    "flushall": bare_sql,
    "flushdb": bare_sql,
}


# options that carry a SQL statement in tools that are not SQL clients themselves
_SQL_OPTIONS = ("--command", "--query", "--sql", "--execute", "--statement", "-e", "-c", "-q")
_SQL_START = re.compile(r"(?is)^\s*(with\b.*?\)\s*)?(drop|truncate|delete|update|alter|grant|"
                        r"explain|select|insert|create)\b")  # fmt: skip
_DB_PROGRAM = re.compile(r"(?i)(sql|db|turso|bq|d1|click|mongo|redis|cockroach|snow|athena|"
                         r"spanner|libsql|neon|pscale|supabase|hasura|prisma|wrangler|duck|trino|"
                         r"presto|cql|influx|surreal|planetscale|xata|fauna|dolt|litestream)")  # fmt: skip


def embedded_sql(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    """SQL passed to another tool: `wrangler d1 execute --command`, `turso db shell DB 'SQL'`,
    `bq query 'SQL'`, `prisma db execute --stdin`, `supabase db ... --command`."""
    if cmd.program in PROGRAMS:
        return []
    from agentaudit.enrich.commands.argv import invocation

    inv = invocation(cmd.program, cmd.argv[1:])
    texts = [v for n, v in inv.values if n in _SQL_OPTIONS and _SQL_START.match(v)]
    if _DB_PROGRAM.search(cmd.program) or any(_DB_PROGRAM.search(w) for w in inv.words[:2]):
        texts += [w for w in inv.words[1:] if " " in w and _SQL_START.match(w)]
        if cmd.stdin and inv.has("--stdin", "-"):
            texts.append(cmd.stdin)
    findings = []
    for text in texts:
        findings += classify_sql(text)
    return findings


# Objects a session makes to throw away: Postgres' temp schema, and tmp_/temp_/test_/scratch_
# names (or those suffixes). Dropping or emptying only such objects destroys no one's data.
_SCRATCH_OBJECT = re.compile(
    r"(?i)^(pg_temp(_\d+)?\.\S+|(\w+\.)?(tmp|temp|test|scratch)(_\w*)?|\S+_(tmp|temp|test|scratch))$"
)
_DESTROYED_OBJECTS = re.compile(
    r"(?i)\b(?:drop\s+(?:table|view|materialized\s+view|index)(?:\s+if\s+exists)?|"
    r"truncate(?:\s+table)?(?:\s+only)?|delete\s+from)\s+([\w.\"`]+(?:\s*,\s*[\w.\"`]+)*)"
)


def statement_categories(statement: str) -> list[str]:
    """Categories of one SQL statement an audit log recorded (pgAudit, a database's own log),
    by `classify_sql`; a statement that drops or empties only scratch objects gives none."""
    findings = classify_sql(statement)
    if not findings:
        return []
    objects = [
        name.strip().strip('"`')
        for names in _DESTROYED_OBJECTS.findall(statement)
        for name in names.split(",")
    ]
    if objects and all(_SCRATCH_OBJECT.match(name) for name in objects):
        findings = [f for f in findings if f.category != "db_destroy"]
    return list(dict.fromkeys(f.category for f in findings))
