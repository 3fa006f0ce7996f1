"""pull railway: fetch a provider's audit log through its API, on an interval."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from agentaudit.cli.common import DbOption, JsonOption, example, fail, open_store, print_json, say

if TYPE_CHECKING:
    from agentaudit.receivers.pull.railway import PullReport

# agentaudit.receivers.pull.railway's, without importing the ingest pipeline for `--help`
ENDPOINT = "https://backboard.railway.com/graphql/v2"
TOKEN_ENV = "RAILWAY_API_TOKEN"
PAGE_SIZE = 100

pull_app = typer.Typer(help="Fetch provider audit logs through their APIs.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(pull_app, name="pull")


@pull_app.command(
    "railway",
    epilog=example(
        "RAILWAY_API_TOKEN=... agentaudit pull railway --workspace ws_123",
        "agentaudit pull railway --workspace ws_123 --interval 600 --json",
    ),
)
def railway(
    workspace: Annotated[str, typer.Option(help="Railway workspace id.")],
    token_env: Annotated[
        str, typer.Option(help="Environment variable holding the API token.")
    ] = TOKEN_ENV,
    team_token: Annotated[
        bool, typer.Option(help="The token is a team token (Team-Access-Token header).")
    ] = False,
    endpoint: Annotated[str, typer.Option(help="GraphQL endpoint.")] = ENDPOINT,
    interval: Annotated[
        float, typer.Option(help="Seconds between pulls; 0 pulls once. Hobby retention is 48 h.")
    ] = 0,
    runs: Annotated[
        int | None,
        typer.Option(help="Stop after this many pulls (default: forever with --interval)."),
    ] = None,
    page_size: Annotated[int, typer.Option(help="Events per page.")] = PAGE_SIZE,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Pull the Railway workspace audit log from the stored cursor and ingest it."""
    from agentaudit.receivers.pull.railway import PullError, poll_railway, pull_railway

    def show(report: PullReport) -> None:
        if json:
            print_json(report.as_dict())
        elif report.errors:
            say(("pull failed: ", "red"), "; ".join(report.errors))
        else:
            say(
                f"{report.pages} pages, {report.events} events: {report.ingested} new, "
                f"{report.duplicate} already stored, {report.quarantined} quarantined"
            )

    options = dict(
        token_env=token_env, team_token=team_token, endpoint=endpoint, page_size=page_size
    )
    with open_store(db) as store:
        if interval <= 0:
            try:
                show(pull_railway(store, workspace, **options))
            except PullError as exc:
                fail(str(exc))
            return
        poll_railway(store, workspace, interval=interval, runs=runs, on_report=show, **options)
