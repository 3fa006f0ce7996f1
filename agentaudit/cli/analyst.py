"""timeline, incidents, views, sql, dashboard: what analysts and on-call look at."""

from __future__ import annotations

import contextlib
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agentaudit.cli.common import (
    DbOption,
    JsonOption,
    console,
    example,
    fail,
    open_store,
    print_json,
    say,
)

if TYPE_CHECKING:
    from agentaudit.analyst.filters import Filters

incidents_app = typer.Typer(help="Incidents (alert groups): list them, or show one whole.")
DASHBOARD_TOKEN_ENV = "AGENTAUDIT_DASHBOARD_TOKEN"


class Format(StrEnum):
    rich = "rich"
    markdown = "markdown"
    json = "json"
    html = "html"


def register(app: typer.Typer) -> None:
    app.command(
        epilog=example(
            "agentaudit timeline --incident 7f8ab542",
            "agentaudit timeline --session 8f1d2c3b-5a6e-4f70-9b1c-2d3e4f5a6b7c -f markdown",
            "agentaudit timeline --from 2026-04-24T19:00Z --to 2026-04-24T20:00Z --host ci-7",
            "agentaudit timeline --incident 7f8a --actor bert-jan --severity critical --limit 20",
        )
    )(timeline)
    app.add_typer(incidents_app, name="incidents")
    app.command(epilog=example("agentaudit views", "agentaudit views --json"))(views)
    app.command(
        epilog=example(
            "agentaudit sql",
            "echo 'SELECT * FROM incidents;' | agentaudit sql --json",
        )
    )(sql)
    app.command(
        epilog=example(
            "agentaudit dashboard",
            "AGENTAUDIT_DASHBOARD_TOKEN=$(openssl rand -hex 16) "
            "agentaudit dashboard --address 0.0.0.0",
        )
    )(dashboard)


def timeline(
    incident: Annotated[str | None, typer.Option(help="Incident id (or a prefix of it).")] = None,
    session: Annotated[str | None, typer.Option(help="Agent session id.")] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="Window start, ISO-8601 (UTC if no offset).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Window end, ISO-8601.")] = None,
    host: Annotated[str | None, typer.Option(help="Only events from this host.")] = None,
    severity: SeverityOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    actor: ActorOption = None,
    credential: CredentialOption = None,
    source: SourceOption = None,
    environment: EnvironmentOption = None,
    status: Annotated[
        str | None, typer.Option(help="Only steps with this outcome (success, failure, ...).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many steps (0: all).")] = 0,
    sort: Annotated[
        str, typer.Option(help="oldest (T+ order), newest, severity, findings or duration.")
    ] = "oldest",
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.rich,
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """One ordered timeline across agent, shell and provider sources, T+ in ms, as steps;
    the steps filtered by severity, time, actor, credential, source, environment, outcome."""
    from agentaudit.analyst import render_steps
    from agentaudit.analyst.hints import empty_store_hint
    from agentaudit.analyst.incidents import IncidentNotFound
    from agentaudit.analyst.timeline_render import to_html, to_json, to_markdown
    from agentaudit.analyst.timeline_steps import filter_steps, report_for
    from agentaudit.schema import parse_time

    if json:
        format = Format.json
    if not (incident or session or (start and end)):
        fail("give --incident ID, --session ID, or --from T --to T (see --help)")
    window = [parse_time(start) if start else None, parse_time(end) if end else None]
    if (start and window[0] is None) or (end and window[1] is None):
        fail("--from/--to must be ISO-8601 times, e.g. 2026-04-24T19:23:00Z")
    with open_store(db, read_only=True) as store:
        hint = empty_store_hint(store)
        if hint and (store.count("events") == 0 or incident):
            fail(hint)
        try:
            report = report_for(
                store, incident=incident, session=session, start=window[0], end=window[1], host=host
            )
        except IncidentNotFound as exc:
            fail(str(exc))
    if not report.rows:
        fail(f"no events in {report.title!r}; check the id or widen the window")
    filters = _filters(
        severity, since, until, limit=limit or None, sort=sort, actor=actor,
        credential=credential, source=source, environment=environment, status=status,
    )  # fmt: skip
    if filters.describe() or filters.limit or filters.sort != "oldest":
        report = filter_steps(report, filters)
    if format is Format.json:
        text = to_json(report)
        if out is None:
            sys.stdout.write(text + "\n")
            return
    elif format is Format.markdown:
        text = to_markdown(report)
    elif format is Format.html:
        text = to_html(report)
        if out is None:
            sys.stdout.write(text)
            return
    else:
        if out is None:
            console.print(render_steps.steps_table(report))
            return
        from agentaudit.terminal import make_console

        with out.open("w", encoding="utf-8") as fh:
            make_console(file=fh, width=140).print(render_steps.steps_table(report))
        say(f"timeline written to {out}")
        return
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        say(f"{format.value} timeline ({len(report.steps)} steps) written to {out}")


SeverityOption = Annotated[
    list[str] | None,
    typer.Option("--severity", "-s", help="Only this severity (repeat for several)."),
]
SinceOption = Annotated[
    str | None, typer.Option("--since", help="From this time, ISO-8601 (UTC if no offset).")
]
UntilOption = Annotated[str | None, typer.Option("--until", help="Up to this time, ISO-8601.")]
ActorOption = Annotated[
    str | None, typer.Option(help="Actor (ARN, user) containing this text, any case.")
]
CredentialOption = Annotated[
    str | None, typer.Option(help="Credential (key id or fingerprint) containing this text.")
]
SourceOption = Annotated[str | None, typer.Option(help="Only with this source (aws.cloudtrail).")]
EnvironmentOption = Annotated[
    str | None, typer.Option(help="Only touching this environment (production, ...).")
]


def _filters(
    severity: list[str] | None,
    since: str | None,
    until: str | None,
    *,
    limit: int | None,
    sort: str,
    **text: str | None,
) -> Filters:
    """The command line's filters, or one clear line and exit 2."""
    from agentaudit.analyst.filters import Filters
    from agentaudit.schema import parse_time
    from agentaudit.taxonomy import SEVERITIES

    unknown = [s for s in severity or [] if s not in SEVERITIES]
    if unknown:
        fail(f"unknown severity {unknown[0]!r}: one of {', '.join(SEVERITIES)}")
    window = [parse_time(since) if since else None, parse_time(until) if until else None]
    if (since and window[0] is None) or (until and window[1] is None):
        fail("--since/--until must be ISO-8601 times, e.g. 2026-04-24T19:23:00Z")
    try:
        return Filters(tuple(severity or ()), window[0], window[1], limit=limit, sort=sort, **text)
    except ValueError as exc:
        fail(str(exc))
        raise


@incidents_app.command(
    "list",
    epilog=example(
        "agentaudit incidents list",
        "agentaudit incidents list --severity critical --actor bert-jan --sort severity",
        "agentaudit incidents list --environment production --since 2026-04-24 --json",
    ),
)
def incidents_list(
    severity: SeverityOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    actor: ActorOption = None,
    credential: CredentialOption = None,
    source: SourceOption = None,
    environment: EnvironmentOption = None,
    status: Annotated[str | None, typer.Option(help="Only this status (firing, ...).")] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many (0: all).")] = 50,
    sort: Annotated[
        str, typer.Option(help="newest, oldest, severity, findings or duration.")
    ] = "newest",
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Incidents, newest first: severity, status, start, duration, findings, actor; filtered,
    with the true count of matches however many are shown."""
    from agentaudit.analyst import render_steps
    from agentaudit.analyst.hints import empty_store_hint
    from agentaudit.analyst.incidents import find_incidents

    filters = _filters(
        severity, since, until, limit=limit or None, sort=sort, actor=actor,
        credential=credential, source=source, environment=environment, status=status,
    )  # fmt: skip
    with open_store(db, read_only=True) as store:
        page = find_incidents(store, filters)
        hint = empty_store_hint(store) if not page.total else None
    if json:
        print_json(page.rows)
        return
    if hint:
        say(hint)
        return
    console.print(render_steps.incidents_table(page.rows, page.count_line("incident")))


@incidents_app.command(
    "show",
    epilog=example("agentaudit incidents show 7f8ab542", "agentaudit incidents show 7f8a --json"),
)
def incidents_show(
    incident_id: Annotated[str, typer.Argument(help="Incident id, or an unambiguous prefix.")],
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """One incident: duration, first destructive call, blast radius, credentials, sessions."""
    from agentaudit.analyst import render_steps
    from agentaudit.analyst.hints import empty_store_hint
    from agentaudit.analyst.incidents import IncidentNotFound, get_incident

    with open_store(db, read_only=True) as store:
        hint = empty_store_hint(store)
        if hint:
            fail(hint)
        try:
            incident = get_incident(store, incident_id)
        except IncidentNotFound as exc:
            fail(str(exc))
    if json:
        print_json(incident.as_dict())
    else:
        console.print(render_steps.incident_view(incident))


def views(json: JsonOption = False) -> None:
    """The analyst views in every store (use them in `query`, `sql`, notebooks)."""
    from agentaudit.store.views import VIEWS

    if json:
        print_json([{"name": v.name, "description": v.description} for v in VIEWS])
        return
    for view in VIEWS:
        say((view.name, "bold"), f": {view.description}")


def sql(
    db: DbOption = None,
    interactive: Annotated[
        bool | None,
        typer.Option(
            "--interactive/--script", help="Prompt (default on a terminal) or read stdin."
        ),
    ] = None,
    json: Annotated[
        bool,
        typer.Option("--json", help="Run the SQL on stdin; one JSON object per statement."),
    ] = False,
) -> None:
    """An SQL prompt over the store (read-only). Not on a terminal: runs the SQL on stdin."""
    from agentaudit.analyst.sqlshell import repl, run_script

    interactive = (sys.stdin.isatty() and not json) if interactive is None else interactive
    if interactive and json:
        fail("--json reads the SQL from stdin: drop --interactive")
    with open_store(db, read_only=True) as store:
        store.sandbox()
        if interactive:
            with contextlib.suppress(ImportError):
                import readline  # noqa: F401 - line editing and history for input()
            repl(store, console)
            return
        failed = run_script(store, sys.stdin, console, as_json=json)
    if failed:
        raise typer.Exit(1)


def dashboard(
    db: DbOption = None,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
    address: Annotated[
        str, typer.Option(help="Address to bind (loopback by default; others need --token).")
    ] = "127.0.0.1",
    token: Annotated[
        str | None,
        typer.Option(
            envvar=DASHBOARD_TOKEN_ENV,
            help="Token a browser must enter before any data is shown (required off loopback).",
        ),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Open the read-only Streamlit dashboard over the store (needs the `dashboard` extra)."""
    import importlib.util

    from agentaudit.dashboards import app_path, is_loopback

    if importlib.util.find_spec("streamlit") is None:
        fail("the dashboard needs Streamlit: pip install 'agentaudit[dashboard]'")
    if not is_loopback(address) and not token:
        fail(
            f"refusing to serve the dashboard on {address} without a token "
            f"(set --token or {DASHBOARD_TOKEN_ENV})"
        )
    store_path = _store_path(db)
    command = [
        sys.executable, "-m", "streamlit", "run", str(app_path()),
        "--server.address", address, "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
        "--", "--db", str(store_path),
    ]  # fmt: skip
    url = f"http://{address}:{port}"
    if json:
        print_json({"url": url, "store": str(store_path), "token_required": bool(token)})
    else:
        say(f"agentaudit dashboard on {url} (store {store_path})")
    sys.stdout.flush()
    env = {**os.environ, "AGENTAUDIT_DB": str(store_path)}
    env.pop(DASHBOARD_TOKEN_ENV, None)
    if token:
        env[DASHBOARD_TOKEN_ENV] = token  # read by dashboards/access.py; not on the command line
    # become the Streamlit server, so signals (Ctrl-C, a test's terminate) reach it directly
    os.execve(sys.executable, command, env)


def _store_path(db: Path | None) -> Path:
    from agentaudit import paths

    path = db or paths.default_db_path()
    if not path.exists():
        fail(f"no agentaudit store at {path}; run `agentaudit ingest` or `agentaudit demo`")
    return path
