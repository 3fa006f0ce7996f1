"""agentaudit verify: is the store what agentaudit wrote? (docs/ARCHITECTURE.md, "Tamper-evident
store")."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agentaudit.cli.common import (
    EXIT_FAILED,
    DbOption,
    JsonOption,
    example,
    fail,
    open_store,
    print_json,
    say,
)

if TYPE_CHECKING:
    from agentaudit.store.chain.verify import VerifyReport

SHOWN_PER_KIND = 20


def register(app: typer.Typer) -> None:
    app.command(
        "verify",
        epilog=example(
            "agentaudit verify",
            "agentaudit verify --anchor /mnt/worm/agentaudit-checkpoints.jsonl --json",
            "agentaudit verify --public-key > agentaudit-chain.pem",
            "agentaudit verify --proof 9f2c0d1e... > proof.json",
        ),
    )(verify)


def verify(
    db: DbOption = None,
    json: JsonOption = False,
    anchor: Annotated[
        Path | None,
        typer.Option(
            help="Checkpoints written out (AGENTAUDIT_CHECKPOINT_LOG) to compare the store with; "
            "default: that file when set."
        ),
    ] = None,
    public_key_file: Annotated[
        Path | None,
        typer.Option(help="The published public key (PEM); default: the local signing key's."),
    ] = None,
    public_key: Annotated[
        bool, typer.Option("--public-key", help="Print the public key (PEM) and stop.")
    ] = False,
    proof: Annotated[
        str | None,
        typer.Option(help="Print an inclusion proof (JSON) of this row and stop."),
    ] = None,
    table: Annotated[str, typer.Option(help="The table of the --proof row.")] = "events",
) -> None:
    """Recompute the chain over events, findings, alerts and deliveries: name every row
    changed, deleted, inserted or reordered and every checkpoint that fails; exit 1 if any."""
    import os

    from agentaudit.store.chain import proof as proofs
    from agentaudit.store.chain import signing, verify
    from agentaudit.store.chain.writer import ANCHOR_VARIABLE

    if public_key:  # made now if nothing was signed yet, so it can be published first
        typer.echo(signing.public_pem(signing.load_or_create_key()), nl=False)
        return
    with open_store(db, read_only=True) as store:
        if proof is not None:
            print_json(proofs.inclusion_proof(store.con, proof, table))
            return
        key = signing.local_public_key(public_key_file)
        if anchor is None and os.environ.get(ANCHOR_VARIABLE):
            anchor = Path(os.environ[ANCHOR_VARIABLE])
        if anchor is not None and not anchor.exists():
            fail(f"--anchor {anchor}: no such file")
        report = verify.verify(store.con, key, anchor)
    if json:
        print_json(report.as_dict())
    else:
        _show(report, key is None)
    if not report.clean:
        raise typer.Exit(EXIT_FAILED)


def _show(report: VerifyReport, keyless: bool) -> None:
    rows = ", ".join(f"{table} {count:,}" for table, count in report.rows.items())
    head = f"{report.links:,} links, {report.checkpoints:,} signed checkpoints; rows: {rows}"
    if report.clean:
        say(f"clean: {head}")
        return
    say(f"NOT clean: {len(report.problems):,} problems; {head}")
    if keyless:
        say("no public key: pass --public-key-file with the published key")
    shown: dict[str, int] = {}
    for problem in report.problems:
        shown[problem.kind] = shown.get(problem.kind, 0) + 1
        if shown[problem.kind] > SHOWN_PER_KIND:
            continue
        where = " ".join(part for part in (problem.table, problem.key) if part)
        say(f"  {problem.kind:<10} {where}  {problem.detail}".rstrip())
    for kind, count in shown.items():
        if count > SHOWN_PER_KIND:
            say(f"  ... and {count - SHOWN_PER_KIND:,} more {kind} (--json lists them all)")
