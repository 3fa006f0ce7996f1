"""export: OCSF, ECS, Splunk HEC (file or POST) or CEF, resumable with a stored cursor."""

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
            "agentaudit export --format ocsf --out agentaudit.ocsf.ndjson",
            "agentaudit export --format ecs --what events --since 7d --no-cursor > events.ndjson",
            f"{TOKEN_ENV}=... agentaudit export --format hec --hec-url https://splunk:8088",
        )
    )(export)


def export(
    format: Annotated[str, typer.Option("--format", help="ocsf, ecs, hec or cef.")] = "ocsf",
    out: Annotated[str, typer.Option(help="File, or - for stdout.")] = "-",
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
        typer.Option("--append", help="Append to --out instead of replacing it (for tailers)."),
    ] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Export activity (OCSF 1007/1001/6003) and Detection Finding lifecycle records (2004)."""
    from agentaudit.export.stream import FORMATS, WHAT, export_to, parse_since, post_hec

    if format not in FORMATS:
        fail(f"unknown format {format!r}; supported: {', '.join(FORMATS)}")
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
    with open_store(db) as store:
        if hec_url:
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
            )
    if json and out == "-" and not hec_url:  # stdout carries the records
        err_console.print_json(data=report.as_dict())
    elif json:
        print_json(report.as_dict())
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
