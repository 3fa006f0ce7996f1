"""export: OCSF, ECS, Splunk HEC (file or POST), CEF or Parquet, resumable with a stored cursor."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from agentaudit.cli.common import (
    EXIT_FAILED,
    DbOption,
    JsonOption,
    err_console,
    example,
    fail,
    open_store,
    print_json,
    say,
)

TOKEN_ENV = "AGENTAUDIT_HEC_TOKEN"  # agentaudit.export.hec.TOKEN_ENV, without its imports


def register(app: typer.Typer) -> None:
    app.command(
        epilog=example(
            "agentaudit export --format ocsf --out agentaudit.ocsf.ndjson --append",
            "agentaudit export --format ecs --what events --since 7d --no-cursor > events.ndjson",
            "agentaudit export --format cef --out findings.cef --append",
            "agentaudit export --format parquet --out lake/",
            f"{TOKEN_ENV}=... agentaudit export --format hec --hec-url https://splunk:8088",
        )
    )(export)


def export(
    format: Annotated[
        str,
        typer.Option(
            "--format",
            help="ocsf, ecs, hec, cef (one line per Detection Finding record) or parquet "
            "(a directory: events/ and findings/, partitioned by date and source).",
        ),
    ] = "ocsf",
    out: Annotated[str, typer.Option(help="File (parquet: directory), or - for stdout.")] = "-",
    since: Annotated[
        str | None, typer.Option(help="Only records at or after this time (ISO, or 2h, 7d).")
    ] = None,
    cursor: Annotated[
        str | None,
        typer.Option(help="Cursor name (default: the format); the next run resumes after it."),
    ] = None,
    no_cursor: Annotated[
        bool, typer.Option("--no-cursor", help="Export everything; neither read nor move a cursor.")
    ] = False,
    what: Annotated[str, typer.Option(help="all, events (activity) or findings.")] = "all",
    hec_url: Annotated[
        str | None,
        typer.Option(help=f"POST to this HEC endpoint (token from ${TOKEN_ENV})."),
    ] = None,
    index: Annotated[str | None, typer.Option(help="Splunk index for HEC envelopes.")] = None,
    append: Annotated[
        bool,
        typer.Option("--append", help="Add what is new to --out (for tailers and timers)."),
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace --out when it already holds an export."),
    ] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Export activity (OCSF 1007/1001/6003) and Detection Finding lifecycle records (2004).

    An --out file that already holds an export is never replaced silently: --append adds the
    records after the cursor, --force replaces it. Parquet adds new part files each run.
    """
    from agentaudit.export.stream import FORMATS, WHAT, export_to, parse_since, post_hec

    if format not in (*FORMATS, "parquet"):
        fail(f"unknown format {format!r}; supported: {', '.join(FORMATS)}, parquet")
    if what not in WHAT:
        fail(f"--what must be one of {', '.join(WHAT)}")
    try:
        since_at = parse_since(since)
    except ValueError as exc:
        fail(str(exc))
        return
    cursor_name = None if no_cursor else (cursor or format)
    if format == "cef" and what == "all":
        what = "findings"  # CEF has a line per finding only
    if format == "parquet" and (out == "-" or hec_url):
        fail("--format parquet writes a directory: give it with --out")
    if append and force:
        fail("--append and --force exclude each other")
    from agentaudit.errors import UserError

    try:
        with open_store(db) as store:
            if format == "parquet":
                from agentaudit.export.parquet import export_parquet

                report = export_parquet(
                    store, Path(out), since=since_at, cursor_name=cursor_name, what=what
                )
            elif hec_url:
                token = os.environ.get(TOKEN_ENV)
                if format != "hec" or not token:
                    fail(f"--hec-url needs --format hec and the token in ${TOKEN_ENV}")
                report = post_hec(
                    store,
                    hec_url,
                    token,
                    since=since_at,
                    cursor_name=cursor_name,
                    what=what,
                    index=index,
                )
            elif out == "-":
                report = export_to(
                    store,
                    format,
                    sys.stdout,
                    since=since_at,
                    cursor_name=cursor_name,
                    what=what,
                    index=index,
                )
            else:
                report = export_to(
                    store,
                    format,
                    Path(out),
                    since=since_at,
                    cursor_name=cursor_name,
                    what=what,
                    index=index,
                    append=append,
                    force=force,
                )
    except UserError as exc:  # an export already at --out: one line, nothing written
        fail(str(exc))
        return
    if json and out == "-" and not hec_url:  # stdout carries the records
        err_console.print_json(data=report.as_dict())
    elif json:
        print_json(report.as_dict())
    elif report.written == 0 and out != "-" and cursor_name:
        say(f"nothing new after cursor {cursor_name!r}: {out} left as it was")
    elif out != "-" or hec_url:
        say(
            f"{report.written} records ({report.events} activity, {report.findings} findings) "
            f"-> {hec_url or out}" + (f"; cursor {cursor_name!r} saved" if cursor_name else "")
        )
    else:
        err_console.print(
            f"{report.written} records" + (f"; cursor {cursor_name!r} saved" if cursor_name else "")
        )
    if report.errors:
        fail(
            "HEC refused a batch: " + report.errors[-1] + " (cursor kept before it)",
            code=EXIT_FAILED,
        )
