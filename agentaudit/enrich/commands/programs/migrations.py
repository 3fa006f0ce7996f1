"""Schema tools and ORM tasks that drop data, in any framework's idiom.

A task name is split into its pieces (`doctrine:schema:drop`, `ecto.reset`, `dropAll`,
`db:migrate:undo:all`, `migrate:fresh`); a drop verb in a database context is a drop
(`flyway clean`, `sqlx database drop`, `dotnet ef database drop`). Migrating backwards to the
beginning is one too: to `0`, `base`, `zero` or `first`, `VERSION=0`, `--all`.
"""

from __future__ import annotations

import re

from agentaudit.enrich.commands.argv import invocation
from agentaudit.enrich.commands.model import Finding
from agentaudit.enrich.commands.parse import SimpleCommand
from agentaudit.enrich.commands.programs.base import Context

# tools whose every subcommand is about the database
_SCHEMA_TOOLS = frozenset(
    {"flyway", "liquibase", "knex", "sequelize", "sequelize-cli", "typeorm", "alembic", "goose",
     "dbmate", "diesel", "sqlx", "migrate", "prisma", "drizzle-kit", "mikro-orm", "atlas",
     "sqitch", "db-migrate", "umzug", "phinx", "ef", "dotnet-ef", "prisma-migrate"}
)  # fmt: skip
# runners whose first word (or the script after them) names a task
_RUNNERS = frozenset(
    {"rails", "rake", "php", "artisan", "console", "python", "manage.py", "django-admin", "mix",
     "flask", "dotnet", "bundle", "npm", "yarn", "pnpm", "bun", "make", "just", "invoke",
     "poetry", "pdm", "uv", "hatch", "gradle", "gradlew", "mvn", "mvnw", "sbt", "lein", "deno"}
)  # fmt: skip
_LAUNCHERS = {"bundle", "npm", "yarn", "pnpm", "bun", "uv", "poetry", "pdm", "hatch", "deno"}
_SCRIPTS = ("artisan", "console", "manage.py", "run", "exec", "ef")
_DB_PIECES = {"db", "database", "databases", "schema", "migrate", "migration", "migrations",
              "ecto", "doctrine", "sql", "tables", "data", "seed", "seeds", "orm", "repo"}  # fmt: skip
_DROP_PIECES = {"drop", "wipe", "purge", "reset", "fresh", "nuke", "truncate", "destroy",
                "replant", "refresh", "dropall", "erase", "clear"}  # fmt: skip
_BACKWARDS = {"downgrade", "rollback", "down", "revert", "undo", "update", "down-to", "goto",
              "migrate", "migration", "to", "migrations:migrate"}  # fmt: skip
_BEGINNING = {"0", "base", "zero", "first", "none"}
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _pieces(word: str) -> list[str]:
    return [p.lower() for p in re.split(r"[:._/-]", _CAMEL.sub("-", word)) if p]


def schema_task(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    program = cmd.program
    if program not in _SCHEMA_TOOLS and program not in _RUNNERS:
        return []
    inv = invocation(program, cmd.argv[1:])
    words = list(inv.words)
    while words and (words[0].rsplit("/", 1)[-1] in _SCRIPTS or words[0] in ("exec", "run")):
        words = words[1:]  # php artisan, python manage.py, dotnet ef, bundle exec, npm run
    launcher = program in _LAUNCHERS
    if words and launcher and words[0].rsplit("/", 1)[-1] in _SCHEMA_TOOLS | {"rails", "rake"}:
        program, words = words[0].rsplit("/", 1)[-1], words[1:]
    task = words[:3]
    pieces = [p for w in task for p in _pieces(w)]
    db_context = program in _SCHEMA_TOOLS or bool(_DB_PIECES & set(pieces))
    if not db_context or not task:
        return []
    drop = _DROP_PIECES & set(pieces)
    if program == "flyway" and "clean" in pieces:
        drop = {"clean"}
    if "undo" in pieces and "all" in pieces:
        drop = {"undo all"}
    if "schema" in pieces and "load" in pieces:
        drop = {"schema load"}
    if drop:
        what = " ".join(task[:2])
        return [Finding("orm.drop-task", "db_destroy", "high",
                        f"{program} {what} drops or resets the database ({sorted(drop)[0]})",
                        operation=f"{program} {what}")]  # fmt: skip
    targets = {w.lower() for w in words[1:4]} | {
        v for n, v in inv.values if n in ("--to", "--target", "--version", "-t")
    }
    env_version = cmd.env.get("VERSION") or next(
        (w.split("=", 1)[1] for w in cmd.argv if w.startswith(("VERSION=", "STEP="))), None
    )
    backwards = bool((set(pieces) | {program}) & _BACKWARDS)
    to_start = (
        bool(targets & _BEGINNING)
        or env_version == "0"
        or (inv.has("--all") and bool({"rollback", "undo", "down", "revert"} & set(pieces)))
    )
    if backwards and to_start:
        return [Finding("orm.migrate-to-base", "db_destroy", "high",
                        f"{program} {' '.join(task[:2])} migrates back to the beginning: "
                        "every migrated table is dropped", operation=f"{program} {task[0]}")]  # fmt: skip
    return []
