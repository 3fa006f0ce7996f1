"""pull railway: fetch a provider's audit log through its API, on an interval."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from agentaudit.cli.common import DbOption, JsonOption, example, fail, open_store, print_json, say

if TYPE_CHECKING:
    from pathlib import Path

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


# The REST pullers (agentaudit.receivers.pull.platforms), named here so that `--help` imports
# none of them: name -> (token variable, what the account is). A test keeps the two in step.
REST_PULLERS: dict[str, tuple[str, str]] = {
    "anthropic": ("ANTHROPIC_COMPLIANCE_KEY", "organization (labels the stored cursor)"),
    "azure-devops": ("AZURE_DEVOPS_PAT", "organization"),
    "cloudflare": ("CLOUDFLARE_API_TOKEN", "account id"),
    "cursor": ("CURSOR_ADMIN_API_KEY", "team name (labels the stored cursor)"),
    "github": ("GITHUB_TOKEN", "organization (or enterprise slug with --enterprise)"),
    "gitlab": ("GITLAB_TOKEN", "group id or URL-encoded path"),
    "heroku": ("HEROKU_API_KEY", "enterprise account id or name"),
    "supabase": ("SUPABASE_ACCESS_TOKEN", "project ref"),
    "terraform-cloud": ("TFC_AUDIT_TOKEN", "organization (labels the stored cursor)"),
    "vercel": ("VERCEL_TOKEN", "team id"),
}


def _pull_loop(
    name: str,
    account: str,
    token_env: str,
    endpoint: str | None,
    interval: float,
    runs: int | None,
    page_size: int,
    db: Path | None,
    json: bool,
) -> None:
    """Pull once, or every `interval` seconds; a failed run on an interval is said and retried."""
    import time

    from agentaudit.receivers.pull.platforms import PLATFORMS
    from agentaudit.receivers.pull.rest import PullError, pull_platform

    platform = PLATFORMS[name]
    done = 0
    with open_store(db) as store:
        while True:
            try:
                report = pull_platform(
                    store, platform, account, token_env=token_env, endpoint=endpoint,
                    page_size=page_size, interval=interval or None,
                )  # fmt: skip
            except PullError as exc:
                if interval <= 0:
                    fail(str(exc))
                say(("pull failed: ", "red"), str(exc))  # on an interval: the next run retries
            else:
                if json:
                    print_json(report.as_dict())
                else:
                    say(
                        f"{report.pages} pages, {report.events} events: {report.ingested} "
                        f"new, {report.duplicate} already stored, {report.quarantined} "
                        f"quarantined, {report.retries} retries"
                    )
            done += 1
            if interval <= 0 or (runs is not None and done >= runs):
                return
            time.sleep(interval)


def _rest_command(name: str, token_variable: str, account_help: str):
    def command(
        account: str = typer.Option(..., help=account_help.capitalize() + "."),
        token_env: str = typer.Option(
            token_variable, help="Environment variable holding the token."
        ),
        endpoint: Annotated[
            str | None, typer.Option(help="API URL (`{account}` is filled in).")
        ] = None,
        interval: Annotated[float, typer.Option(help="Seconds between pulls; 0 pulls once.")] = 0,
        runs: Annotated[
            int | None, typer.Option(help="Stop after this many pulls (default: forever).")
        ] = None,
        page_size: Annotated[int, typer.Option(help="Records per page.")] = 100,
        db: DbOption = None,
        json: JsonOption = False,
    ) -> None:
        _pull_loop(name, account, token_env, endpoint, interval, runs, page_size, db, json)

    command.__doc__ = f"Pull the {name} audit log from the stored cursor and ingest it."
    return command


for _name, (_variable, _account) in REST_PULLERS.items():
    if _name == "github":  # its own command below: org or enterprise, which events
        continue
    pull_app.command(
        _name,
        epilog=example(
            f"{_variable}=... agentaudit pull {_name} --account <{_account.split(' (')[0]}>",
            f"agentaudit pull {_name} --account <id> --interval 3600 --json",
        ),
    )(_rest_command(_name, _variable, _account))


@pull_app.command(
    "github",
    epilog=example(
        "GITHUB_TOKEN=... agentaudit pull github --account acme --interval 3600",
        "agentaudit pull github --account acme-enterprise --enterprise --include web --json",
    ),
)
def github(
    account: Annotated[str, typer.Option(help="Organization (or enterprise slug).")],
    enterprise: Annotated[
        bool, typer.Option(help="--account is an enterprise: its audit log, every org's.")
    ] = False,
    include: Annotated[
        str, typer.Option(help="web, git or all (Git events are kept 7 days, web 180).")
    ] = "all",
    token_env: Annotated[
        str, typer.Option(help="Environment variable holding the token.")
    ] = "GITHUB_TOKEN",
    api_url: Annotated[
        str, typer.Option(help="REST API root (https://api.<subdomain>.ghe.com for GHE.com).")
    ] = "https://api.github.com",
    interval: Annotated[float, typer.Option(help="Seconds between pulls; 0 pulls once.")] = 0,
    runs: Annotated[
        int | None, typer.Option(help="Stop after this many pulls (default: forever).")
    ] = None,
    page_size: Annotated[int, typer.Option(help="Events per page (at most 100).")] = 100,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Pull the GitHub organization or enterprise audit log (Copilot agent events included)
    from the stored cursor and ingest it."""
    from agentaudit.receivers.pull.github import cursor_label, endpoint

    try:
        url = endpoint(api_url, enterprise=account if enterprise else None, include=include)
    except ValueError as exc:
        fail(str(exc))
    label = cursor_label(account, enterprise=enterprise)
    _pull_loop("github", label, token_env, url, interval, runs, page_size, db, json)
