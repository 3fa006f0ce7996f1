"""Both notebooks run top to bottom under nbclient; their printed outputs carry the key facts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebooks extra is not installed")
from nbclient import NotebookClient  # noqa: E402

from tests.pocketos_expected import one_shot_rules  # noqa: E402

pytestmark = pytest.mark.slow  # Jupyter kernels

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def execute(name: str) -> str:
    """Run the notebook in a real kernel; return all its text outputs joined."""
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = NotebookClient(
        notebook,
        timeout=60,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", output
            texts.append(output.get("text") or output.get("data", {}).get("text/plain", ""))
            if "image/svg+xml" in output.get("data", {}):
                texts.append(output["data"]["image/svg+xml"])
    return "\n".join(texts)


def test_postmortem_notebook():
    text = execute("postmortem")
    assert "ingested 33 events from 3 files, 0 quarantined" in text
    # every finding one-shot `detect` makes on the replay, in one alert
    total = one_shot_rules().total()
    assert f"findings: {total}, alerts: 1, alerts delivered: 1" in text
    assert "duration: 8,921 ms" in text
    # the nine seconds, in order, with their offsets
    assert (
        "token file read at T+4,118 ms: /home/dev/pocketos/scripts/domains/railway-domains.env"
        in text
    )
    assert "curl volumeDelete at T+7,804 ms" in text
    assert "provider record volume.deleted (production) at T+8,921 ms" in text
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="timeline-chart"' in text
    # the credential's path by fingerprint: grep output, the file, then the curl
    path = re.findall(r"T\+\s*([\d,]+) ms  (seen|used)  ([0-9a-f]{16})", text)
    assert [(ms, how) for ms, how, _ in path][:3] == [
        ("2,902", "seen"),
        ("4,118", "seen"),
        ("7,804", "used"),
    ]
    assert len({fp for _, _, fp in path}) == 1
    assert "6f0c2b9e-41d7-4c3a-a8e5-d2b7f19c0e84" not in text  # the token itself never shows
    # what fired when: every finding; of the Python ones three on the refused CLI delete and
    # five on the curl (the Sigma pack's, a level below, on the same two calls)
    fired = re.findall(r"T\+\s*([\d,]+) ms  (\S+)\s+on (\S+)", text)
    assert len(fired) == total
    assert {(ms, rule) for ms, rule, _ in fired if ms == "0" and ":" not in rule} == {
        ("0", "destructive-burst"),
        ("0", "environment-scope"),
        ("0", "failed-then-credential-hunt-then-destructive"),
    }
    assert {what for ms, _, what in fired if ms == "7,804"} == {"railway.graphql:volumeDelete"}
    assert "destructive-provider-http: decidable at T+7,804 ms, 1,117 ms before" in text
    assert "destructive-burst: decidable at T+7,804 ms" in text
    # the scope check on the refused CLI delete alone was decidable at once
    assert "environment-scope: decidable at T+0 ms, 8,921 ms before" in text
    # one line per finding: the Python ones (`[\w-]+`), then the Sigma pack's (`sigma:`)
    assert len(re.findall(r"^[\w-]+: decidable at T\+", text, re.M)) == 8
    # every finding but production_destroy, which rests on the provider's record itself
    assert len(re.findall(r"^[\w:-]+: decidable at T\+", text, re.M)) == total - 1
    assert "sigma:agentaudit_production_destroy: decidable" not in text


def test_hunting_notebook_without_the_corpus(monkeypatch, tmp_path):
    monkeypatch.setenv("AGENTAUDIT_CORPUS", str(tmp_path / "no-corpus"))
    text = execute("hunting")
    assert "corpus: not found at" in text and "built-in replay only" in text
    total = one_shot_rules().total()
    assert f"events: 33, quarantined: 0, findings: {total}, incidents: 1" in text
    assert "agent sessions with destructive calls: 1" in text
    # the developer's own shell lines before the agent ran form a session that destroyed nothing
    assert "shell sessions (no agent) with destructive calls: 0" in text
    assert "outside any agent session" not in text
    assert re.search(
        r"staging session 8f1d2c3b-\S+ destroyed production 3d2c42fb-\S+ with railway.graphql:volumeDelete",
        text,
    )
    assert "units scored: 3; most anomalous: 8f1d2c3b-5a6e-4f70-9b1c-2d3e4f5a6b7c" in text


def test_hunting_notebook_over_the_corpus(corpus, monkeypatch):
    monkeypatch.setenv("AGENTAUDIT_CORPUS", str(corpus))
    text = execute("hunting")
    assert re.search(r"corpus: \d+ directories at", text)
    events = int(re.search(r"events: (\d+),", text).group(1))
    assert events > 33  # the replay plus real history files
    # the corpus's zsh 5.9 history deletes a Railway volume with no agent session around it
    assert "outside any agent session: railway.graphql:volumeDelete on" in text
    shell = int(re.search(r"shell sessions \(no agent\) with destructive calls: (\d+)", text)[1])
    assert shell >= 1
    assert "production targets touched from staging sessions: 1" in text
    assert re.search(r"units scored: \d+; most anomalous:", text)
