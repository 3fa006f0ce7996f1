"""`agentaudit model train|info`: the IsolationForest over activity windows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from agentaudit.cli.common import DbOption, JsonOption, example, fail, open_store, print_json, say

DEFAULT_CONTAMINATION = 0.001  # forest.DEFAULT_CONTAMINATION, without importing scikit-learn

model_app = typer.Typer(
    help="Train and inspect the anomaly model (IsolationForest).", no_args_is_help=True
)

ModelOption = Annotated[
    Path | None,
    typer.Option(
        "--model", envvar="AGENTAUDIT_MODEL", help="Model file (default: per-user data dir)."
    ),
]


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        fail(f"not an ISO-8601 time: {value!r}")
        raise


@model_app.command(
    epilog=example(
        "agentaudit model train",
        "agentaudit model train --since 2026-03-01 --until 2026-04-01 --json",
    )
)
def train(
    since: Annotated[
        str | None, typer.Option(help="Baseline start (ISO-8601; default: first event).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Baseline end, exclusive (default: last event).")
    ] = None,
    contamination: Annotated[
        float, typer.Option(help="Expected share of anomalous windows in the baseline.")
    ] = DEFAULT_CONTAMINATION,
    model: ModelOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Fit the IsolationForest on the baseline window of the store and save it (skops)."""
    from agentaudit.detect.anomaly import forest

    if not 0 < contamination <= 0.5:
        fail("--contamination must be in (0, 0.5]")
    with open_store(db, read_only=True) as store:
        try:
            trained = forest.train(store, _when(since), _when(until), contamination)
        except ValueError as exc:
            fail(str(exc))
    path = forest.save(trained, model)
    summary = {
        k: trained.metadata[k]
        for k in ("training_window", "training_windows", "contamination", "sklearn_version")
    }
    if json:
        print_json({"model": str(path), **summary})
    else:
        say(
            f"Model saved to {path}: {summary['training_windows']} windows, "
            f"{summary['training_window']['since']} .. {summary['training_window']['until']}, "
            f"contamination {contamination}, scikit-learn {summary['sklearn_version']}"
        )


@model_app.command(epilog=example("agentaudit model info", "agentaudit model info --json"))
def info(model: ModelOption = None, json: JsonOption = False) -> None:
    """Show the saved model's metadata, or why it would be refused."""
    from agentaudit.detect.anomaly import forest

    try:
        trained = forest.load(model)
    except forest.ModelRefused as exc:
        fail(str(exc))
        raise
    if trained is None:
        fail("no model trained yet; run `agentaudit model train`")
        raise typer.Exit(2)
    meta = {k: v for k, v in trained.metadata.items() if not k.startswith("baseline_")}
    if json:
        print_json(meta)
        return
    for key, value in meta.items():
        say((f"{key}: ", "bold"), str(value))
