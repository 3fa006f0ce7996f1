"""alert (run, deliver, list, ack, outbox, test) and silence (add, list, expire)."""

from __future__ import annotations

import getpass
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
    run_command,
    say,
)
from agentaudit.terminal import styled

if TYPE_CHECKING:
    from agentaudit.alert.config import AlertingConfig

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        envvar="AGENTAUDIT_ALERTING",
        help="Alerting YAML (routes, receivers); default: alerting.yml in the data dir.",
    ),
]

alert_app = typer.Typer(help="Alert groups, delivery outbox, acknowledgement, test pages.")
silence_app = typer.Typer(help="Mute alerts matching labels for a while.")


def register(app: typer.Typer) -> None:
    app.add_typer(alert_app, name="alert")
    app.add_typer(silence_app, name="silence")


def _config(path: Path | None) -> AlertingConfig:
    from agentaudit.alert.config import from_urls, load_config

    try:
        config = load_config(path)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
        raise
    return config or from_urls([])


@alert_app.command(
    "run",
    epilog=example("agentaudit alert run", "agentaudit alert run --every 30 --config alerting.yml"),
)
def alert_run(
    config: ConfigOption = None,
    db: DbOption = None,
    every: Annotated[
        float, typer.Option(help="Repeat every N seconds (0 = once); for a timer-less daemon.")
    ] = 0,
    json: JsonOption = False,
) -> None:
    """Evaluate alert groups (timers, silences, inhibition, resolve) and deliver what is due."""
    import duckdb

    from agentaudit.alert.delivery.outbox import deliver_due
    from agentaudit.alert.engine import evaluate

    cfg = _config(config)
    while True:
        try:
            with open_store(db) as store:
                report = evaluate(store, cfg)
                attempts = deliver_due(store, cfg)
                waiting = store.rows(
                    "SELECT status, count(*) AS n FROM outbox "
                    "WHERE status IN ('pending', 'failed', 'expired') GROUP BY status"
                )
        except duckdb.IOException as exc:  # another agentaudit process holds the store
            if not every:
                raise
            err_console.print(
                styled((f"store busy, retrying in {every:g} s: ", "yellow"), str(exc))
            )
            time.sleep(every)
            continue
        summary = {
            "alerts_changed": len(report.changed),
            "notifications_queued": len(report.notifications),
            "finding_records": report.records,
            "attempts": len(attempts),
            "delivered": sum(a["ok"] for a in attempts),
            "not_notified": sum(len(n.firing()) for n in report.unsent),
            **{f"outbox_{r['status']}": r["n"] for r in waiting},
        }
        if json:
            print_json(summary)
        else:
            say(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in summary.items()))
            if report.unsent:  # one greppable line, never wrapped
                err_console.print(styled((report.unsent_summary(), "bold red")), soft_wrap=True)
            if any(r["status"] in ("failed", "expired") for r in waiting):
                err_console.print(
                    styled(
                        ("some pages were refused or expired undelivered: ", "bold red"),
                        "agentaudit alert outbox",
                    )
                )
        if not every:
            return
        time.sleep(every)


@alert_app.command(
    "deliver", epilog=example("agentaudit alert deliver", "agentaudit alert deliver --json")
)
def alert_deliver(config: ConfigOption = None, db: DbOption = None, json: JsonOption = False):
    """Send the outbox rows that are due (retries included)."""
    from agentaudit.alert.delivery.outbox import deliver_due

    cfg = _config(config)
    with open_store(db) as store:
        attempts = deliver_due(store, cfg)
    if json:
        print_json(attempts)
        return
    for a in attempts:
        state = "ok" if a["ok"] else f"failed ({a['detail']})"
        say(f"{a['alert_id'][:12]} {a['action']:<8} {a['target']} attempt {a['attempt']}: {state}")
    say(f"{sum(a['ok'] for a in attempts)}/{len(attempts)} delivered")


@alert_app.command("list", epilog=example("agentaudit alert list", "agentaudit alert list --json"))
def alert_list(db: DbOption = None, json: JsonOption = False) -> None:
    """Alert groups with their state."""
    with open_store(db, read_only=True) as store:
        rows = store.rows(
            """SELECT alert_id, status, severity, title, session_id, route, receiver,
                      acknowledged_by, created_at, notified_at, resolved_at
               FROM alerts ORDER BY created_at"""
        )
    if json:
        print_json(rows)
        return
    for r in rows:
        ack = f" ack by {r['acknowledged_by']}" if r["acknowledged_by"] else ""
        say(f"{r['alert_id']} {r['status']:<9} {r['severity']:<8} {r['title']}{ack}")


@alert_app.command(
    "ack", epilog=example("agentaudit alert ack 7f8ab542", "agentaudit alert ack 7f8a --by alice")
)
def alert_ack(
    alert_id: Annotated[str, typer.Argument(help="Alert id (a unique prefix is enough).")],
    by: Annotated[str | None, typer.Option(help="Who acknowledges (default: your login).")] = None,
    config: ConfigOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Acknowledge an alert: no more repeats; PagerDuty receivers get `acknowledge`."""
    result = run_command(
        db,
        "alert.ack",
        alert_id=alert_id,
        by=by or getpass.getuser(),
        config=str(config.resolve()) if config else None,
    )
    if json:
        print_json(result)
    else:
        say(f"acknowledged {result['alert_id']} by {result['acknowledged_by']}")


@alert_app.command(
    "outbox", epilog=example("agentaudit alert outbox", "agentaudit alert outbox --attempts --json")
)
def alert_outbox(
    db: DbOption = None,
    attempts: Annotated[bool, typer.Option(help="List every delivery attempt.")] = False,
    json: JsonOption = False,
) -> None:
    """What is queued, delivered, failed or expired; with --attempts, every attempt made."""
    with open_store(db, read_only=True) as store:
        if attempts:
            rows = store.rows(
                """SELECT attempted_at, alert_id, receiver, target, action, attempt, ok,
                          status_code, retryable, detail FROM deliveries ORDER BY attempted_at"""
            )
        else:
            rows = store.rows(
                """SELECT outbox_id, alert_id, receiver, target, action, status, attempts,
                          next_attempt_at, last_error FROM outbox ORDER BY created_at"""
            )
    if json:
        print_json(rows)
        return
    for r in rows:
        say("  ".join(str(v) for v in r.values()))


@alert_app.command(
    "test", epilog=example("agentaudit alert test --route default --config alerting.yml")
)
def alert_test(
    route: Annotated[str, typer.Option(help="Route name from the alerting config.")],
    config: ConfigOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Send a test notification through a route's receiver (apprise targets and PagerDuty)."""
    from agentaudit.alert.delivery.testsend import send_test

    cfg = _config(config)
    with open_store(db) as store:
        try:
            results = send_test(store, cfg, route)
        except (KeyError, ValueError) as exc:
            fail(str(exc.args[0]))
            return
    if json:
        print_json(results)
    else:
        for r in results:
            say(f"{r['target']} {r['action']}: {'ok' if r['ok'] else r['detail']}")
    if not all(r["ok"] for r in results):
        raise typer.Exit(EXIT_FAILED)


@silence_app.command(
    "add",
    epilog=example(
        "agentaudit silence add --match rule_id=destructive-burst --for 2h --comment 'migration'",
        "agentaudit silence add --match 'host=~ci-.*' --for 30m --comment 'CI rebuild' --json",
    ),
)
def silence_add(
    match: Annotated[
        list[str], typer.Option("--match", help="Matcher: name=value, !=, =~ or !~ (repeatable).")
    ],
    for_: Annotated[str, typer.Option("--for", help="Duration, e.g. 2h, 30m.")],
    comment: Annotated[str, typer.Option(help="Why (required).")],
    by: Annotated[str | None, typer.Option(help="Author (default: your login).")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Mute alerts whose labels match every matcher, from now for the given duration."""
    silence = run_command(
        db,
        "silence.add",
        matchers=list(match),
        duration=for_,
        comment=comment,
        by=by or getpass.getuser(),
    )
    if json:
        print_json(silence)
    else:
        say(f"silence {silence['id']} until {silence['ends_at']}")


@silence_app.command(
    "list", epilog=example("agentaudit silence list", "agentaudit silence list --all --json")
)
def silence_list(
    all_: Annotated[bool, typer.Option("--all", help="Include expired silences.")] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Active and pending silences (with --all, expired ones too)."""
    from agentaudit.alert.silences import list_silences
    from agentaudit.store import now

    with open_store(db, read_only=True) as store:
        rows = [s.as_dict(now()) for s in list_silences(store, include_expired=all_)]
    if json:
        print_json(rows)
        return
    for r in rows:
        say(
            f"{r['id']} {r['state']:<8} {' '.join(r['matchers'])} until {r['ends_at']} "
            f"by {r['created_by']}: {r['comment']}"
        )


@silence_app.command("expire", epilog=example("agentaudit silence expire 7c1f0e"))
def silence_expire(
    silence_id: Annotated[str, typer.Argument(help="Silence id (a unique prefix is enough).")],
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """End a silence now."""
    silence = run_command(db, "silence.expire", silence_id=silence_id)
    if json:
        print_json(silence)
    else:
        say(f"silence {silence['id']} expired at {silence['ends_at']}")
