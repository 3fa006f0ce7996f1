"""demo, ingest, detect, query, sources (timeline: cli/analyst.py; export: cli/exporting.py)."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agentaudit.cli.common import (
    EXIT_FAILED,
    EXIT_FINDINGS,
    DbOption,
    JsonOption,
    console,
    err_console,
    example,
    fail,
    open_store,
    print_json,
    run_command,
    say,
    store_owner,
)
from agentaudit.taxonomy import SEVERITIES  # standard library only: `--help` stays light
from agentaudit.terminal import styled

if TYPE_CHECKING:
    from agentaudit.ingest import IngestReport

NOTIFY_ENV = "AGENTAUDIT_NOTIFY"


def register(app: typer.Typer) -> None:
    app.command(epilog=example("agentaudit demo", "agentaudit demo --json"))(demo)
    app.command(
        epilog=example(
            "agentaudit ingest ~/.claude/projects ~/.zsh_history",
            "agentaudit ingest cloudtrail/ --source cloudtrail --json",
            "agentaudit ingest --discover",
        )
    )(ingest)
    app.command(
        epilog=example(
            "agentaudit detect",
            "agentaudit detect --notify 'slack://T000/B000/XXXX'",
            "agentaudit detect --fail-on high   # CI gate: exit 3 on high or critical findings",
        )
    )(detect)
    app.command(
        epilog=example(
            'agentaudit query "SELECT source, count(*) AS n FROM events GROUP BY ALL"',
            "agentaudit query \"SELECT * FROM findings WHERE severity = 'critical'\" --json",
        )
    )(query)
    app.command(
        epilog=example(
            "agentaudit sources", "agentaudit sources --json", "agentaudit sources --health --json"
        )
    )(sources)


def demo(json: JsonOption = False) -> None:
    """Replay the April 2026 Railway incident through every stage, in a fresh store."""
    import io

    from agentaudit.demo import run_demo
    from agentaudit.terminal import make_console

    if not json:
        run_demo(console=console)
        return
    result = run_demo(console=make_console(file=io.StringIO()))
    print_json(
        {
            "store": str(result.db_path),
            "export": str(result.export_path),
            "ingest": result.pipeline.ingest.as_dict(),
            "detect": result.pipeline.detect.as_dict(),
            "alerts_changed": len(result.pipeline.alerts),
            "notifications_received": len(result.received),
            "exported_findings": result.pipeline.exported,
            "seconds": round(result.seconds, 3),
        }
    )


def ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or directories to read.")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Collector to use (see `sources`).")] = None,
    db: DbOption = None,
    json: JsonOption = False,
    discover: Annotated[
        bool,
        typer.Option("--discover", help="Read every agent's default locations; report per source."),
    ] = False,
    jobs: Annotated[
        int,
        typer.Option(
            help="Worker processes that collect and enrich large inputs (16 MB or more): "
            "0 = one per core, at most 4; 1 = none. The stored rows are the same."
        ),
    ] = 0,
) -> None:
    """Read files into the store; report ingested / duplicate / quarantined per file."""
    from agentaudit.collectors import all_collectors
    from agentaudit.ingest import expand_paths, ingest_paths

    if discover:
        _ingest_discovered(db, json)
        if not paths:
            return
    if not paths:
        fail("name files or directories to read, or use --discover")
        return
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        fail(f"no such file or directory: {', '.join(missing)}")
    if source and source not in all_collectors():
        fail(f"unknown source {source!r}; known: {', '.join(all_collectors())}")
    files = expand_paths(paths)
    if jobs <= 0:
        from agentaudit.ingest.parallel import default_jobs

        jobs = default_jobs()
    owner = store_owner(db)
    if owner is not None:  # `watch` or `serve` owns the store: it reads the files
        from agentaudit.owner.commands import ingest_report

        if not json:
            err_console.print(f"queued into {owner.command}, which owns the store ...")
        result = owner.call(
            "ingest", paths=[str(p.resolve()) for p in paths], source=source, jobs=jobs
        )
        _report_ingest(ingest_report(result), json)
        return
    with open_store(db) as store, _stop_on_ctrl_c() as stop:
        if json:
            report = ingest_paths(store, files, source=source, jobs=jobs, stop=stop)
        else:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task("ingesting", total=len(files))
                report = ingest_paths(
                    store,
                    files,
                    source=source,
                    on_file=lambda f: progress.advance(task),
                    jobs=jobs,
                    stop=stop,
                )
    _report_ingest(report, json)


def _report_ingest(report: IngestReport, json: bool) -> None:
    if json:
        print_json(report.as_dict())
    else:
        from agentaudit.analyst import render

        console.print(render.ingest_table(report))
    _exit_for(report)


INTERRUPTED_EXIT = 130  # what a shell reports for a command ended by Ctrl-C


def _exit_for(report: IngestReport) -> None:
    """Exit 130 when stopped by Ctrl-C, 1 when a file could not be read whole, else 0."""
    for failed in report.failed:
        line = styled((f"{failed.status}: ", "red"), f"{failed.path}: {failed.detail}")
        err_console.print(line, soft_wrap=True)
    if report.interrupted:
        line = styled(("interrupted: ", "yellow"), report.interrupted)
        err_console.print(line, soft_wrap=True)
        raise typer.Exit(INTERRUPTED_EXIT)
    if report.failed:
        raise typer.Exit(EXIT_FAILED)


@contextmanager
def _stop_on_ctrl_c() -> Iterator[threading.Event]:
    """The first Ctrl-C (or SIGTERM) asks the ingest to stop at its next batch boundary; a
    second one interrupts at once."""
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        err_console.print("stopping at the next batch boundary (Ctrl-C again to abort)")

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _ingest_discovered(db: Path | None, json: bool) -> None:
    from agentaudit.ingest.discover import (
        discover_sources,
        discovery_summary,
        discovery_table,
        ingest_discovered,
    )

    with open_store(db) as store:
        results = ingest_discovered(store, discover_sources())
    if json:
        print_json(discovery_summary(results))
    else:
        console.print(discovery_table(results))


def detect(
    notify: Annotated[
        list[str] | None,
        typer.Option(
            help=f"apprise URL to page (repeatable; also ${NOTIFY_ENV}, comma-separated)."
        ),
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            metavar="SEVERITY",
            help="Exit 3 when a finding is at this severity or above "
            f"({', '.join(SEVERITIES)}); for CI gates. Without it, findings never fail.",
        ),
    ] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Run the detectors over the store, group findings into alerts, deliver new alerts."""
    if fail_on is not None and fail_on.lower() not in SEVERITIES:
        fail(f"--fail-on must be one of {', '.join(SEVERITIES)} (got {fail_on!r})")
    urls = list(notify or []) + [u for u in os.environ.get(NOTIFY_ENV, "").split(",") if u]
    run = run_command(db, "detect", notify=urls, fail_on=fail_on)
    if json:
        print_json(run["json"])
    else:
        from datetime import datetime

        from agentaudit.analyst import render

        findings = [
            {**f, "first_seen": f["first_seen"] and datetime.fromisoformat(f["first_seen"])}
            for f in run["findings"]
        ]
        console.print(render.findings_table(findings))
        for kind, failure in run["failures"]:
            say((f"{kind}: ", "red"), failure)
        sent = f"{run['delivered']}/{run['deliveries']} deliveries ok"
        if run["unsent"] and not run["deliveries"]:
            sent = "no delivery"  # not "0/0 ok": the line below says nobody was notified
        say(
            f"{run['findings_new']} new findings, {run['updated']} updated, "
            f"{run['alerts_changed']} alerts changed, {sent}"
        )
        if run["unsent"]:  # one greppable line, never wrapped
            err_console.print(styled((run["unsent"], "bold red")), soft_wrap=True)
        if run["gated"]:
            say((f"{run['gated']} findings at {(fail_on or '').lower()} or above", "bold red"))
    if run["gated"]:
        raise typer.Exit(EXIT_FINDINGS)


def query(
    sql: Annotated[
        str,
        typer.Argument(
            help="SQL over the store (tables: events, findings, ...; views: `agentaudit views`)."
        ),
    ],
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Run SQL over the store and print a table (or JSON)."""
    import duckdb

    with open_store(db, read_only=True) as store:
        store.sandbox()
        try:
            result = store.query(sql)
        except duckdb.Error as exc:
            fail(str(exc).splitlines()[0])
    if json:
        print_json(result.to_pylist())
    else:
        from agentaudit.analyst import render

        console.print(render.arrow_table(result))


def sources(
    health: Annotated[
        bool,
        typer.Option(
            "--health",
            help="For every source and host in the store: last report, usual gap, quiet period "
            "(sources.yaml or learned) and state; and each puller's failures and retention.",
        ),
    ] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """List the collectors (input formats) agentaudit reads, and where `--discover` looks."""
    if health:
        _sources_health(db, json)
        return
    from agentaudit.collectors import all_collectors
    from agentaudit.ingest.discover import discover_sources

    where: dict[str, list[str]] = {}
    for source in discover_sources(find=False):  # one per location; a collector may have several
        where.setdefault(source.collector, []).extend(str(r) for r in source.roots)
    rows = [
        {
            "name": c.name,
            "incremental": c.incremental,
            "description": c.description,
            "locations": where.get(c.name, []),
        }
        for c in all_collectors().values()
    ]
    if json:
        print_json(rows)
        return
    for row in rows:
        say((f"{row['name']:<24}", "bold"), f" {row['description']}")
        for place in row["locations"]:
            say(f"{'':<24} ", (place, "dim"))


_STATE_STYLE = {"silent": "red", "asleep": "yellow", "ok": "green"}


def _sources_health(db: Path | None, json: bool) -> None:
    from datetime import timedelta

    from agentaudit.health.config import load_health_config
    from agentaudit.health.pulls import pull_health
    from agentaudit.health.sources import source_health

    config = load_health_config()
    with open_store(db, read_only=True) as store:
        found = source_health(store, config)
    pulls = pull_health(config)
    if json:
        print_json({"sources": [h.as_dict() for h in found], "pulls": [p.as_dict() for p in pulls]})
        return

    def span(seconds: float | None) -> str:
        return "-" if seconds is None else str(timedelta(seconds=round(seconds)))

    if not found:
        say("no source has reported into this store yet")
    for h in found:
        say(
            (f"{h.source:<24}", "bold"),
            f" {h.host or 'this machine':<14} ",
            (f"{h.state:<8}", _STATE_STYLE.get(h.state, "dim")),
            f" last {h.last_seen:%Y-%m-%d %H:%M:%S} ({span(h.silent_seconds)} ago),"
            f" usual gap {span(h.usual_gap_seconds)}, quiet {span(h.quiet_seconds)}"
            f" ({h.quiet_from})",
            (f", {h.tamper_events} audit-trail tamper events" if h.tamper_events else "", "red"),
        )
    for p in pulls:
        state = ("problem: " + "; ".join(p.problems), "red") if p.problems else ("ok", "green")
        say((f"pull {p.puller:<19}", "bold"), f" {p.account:<14} ", state,
            f" last success {p.last_success or 'never'}")  # fmt: skip
