"""`agentaudit serve` with the OpenTelemetry JS exporters, what Claude Code and Gemini CLI use:
the npm packages pinned in tests/otlp_js/ run by node against a receiver on 127.0.0.1, in
protobuf and JSON, gzip or not. Those exporters send chunked bodies (no Content-Length).

The packages are installed with `npm ci` into a cache directory the first time; without node
and npm (Debian's `nodejs` and `npm`; `.ci/run` installs them) the tests are skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from platformdirs import user_cache_dir

from agentaudit.receivers.otlp.server import OtlpReceiver

CLIENTS = Path(__file__).resolve().parent / "otlp_js"
FILES = ("package.json", "package-lock.json", "emit.mjs")
TOKEN = "js-exporter-token"


@pytest.fixture(scope="session")
def emit_script() -> Path:
    """emit.mjs beside its installed node_modules (installed once per lock file)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are not installed (Debian: apt-get install nodejs npm)")
    lock = hashlib.sha256((CLIENTS / "package-lock.json").read_bytes()).hexdigest()[:16]
    root = Path(os.environ.get("AGENTAUDIT_TEST_CACHE", user_cache_dir("agentaudit-tests")))
    home = root / f"otlp-js-{lock}"
    if not (home / "node_modules" / ".package-lock.json").exists():
        staging = root / f"otlp-js-{lock}.{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name in FILES:
            shutil.copy(CLIENTS / name, staging / name)
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=staging,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            pytest.skip(f"npm ci of tests/otlp_js failed (registry unreachable?): {last}")
        shutil.rmtree(home, ignore_errors=True)
        staging.rename(home)
    shutil.copy(CLIENTS / "emit.mjs", home / "emit.mjs")  # the checked-in script, always
    return home / "emit.mjs"


class RecordingReceiver(OtlpReceiver):
    """The real receiver, noting how each request's body was framed."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.framing: list[str] = []

    def handle(self, signal, headers, body):
        chunked = "chunked" in headers.get("transfer-encoding", "")
        self.framing.append("chunked" if chunked else "content-length")
        return super().handle(signal, headers, body)


@pytest.mark.parametrize("protocol", ["protobuf", "json"])
@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_js_exporters_logs_metrics_and_traces_arrive_and_are_stored(
    emit_script, store, redactor, protocol, compression
):
    with RecordingReceiver(store, port=0, redactor=redactor, token=TOKEN) as rx:
        base = rx.endpoint("logs").removesuffix("/v1/logs")
        done = subprocess.run(
            ["node", str(emit_script), base, protocol, compression, TOKEN],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    diagnostics = json.loads(done.stdout.strip().splitlines()[-1])
    assert diagnostics["error"] == []  # every export succeeded (no 4xx/5xx, no timeout)
    partial = [
        json.loads(w.split("response:", 1)[1]) for w in diagnostics["warn"] if "Partial" in w
    ]
    counters = sorted(
        (k, int(v)) for p in partial for k, v in p.items() if k.startswith("rejected")
    )
    assert counters == [("rejectedDataPoints", 1), ("rejectedLogRecords", 1), ("rejectedSpans", 1)]
    assert set(rx.framing) == {"chunked"}  # what the plain HTTP server answered with 411
    assert rx.stats.records == 4 + 5 + 4 and rx.stats.rejected_records == 3
    by_source = store.rows("SELECT source, count(*) AS n FROM events GROUP BY 1 ORDER BY 1")
    assert by_source == [
        {"source": "agent.otel-metrics", "n": 4},
        {"source": "agent.otel-spans", "n": 3},
        {"source": "claude-code.otel", "n": 3},
    ]
    quarantine = store.rows("SELECT source, line, reason FROM quarantine ORDER BY reason")
    assert [(q["source"], q["line"]) for q in quarantine] == [
        ("agent.otel-metrics", 5),
        ("otlp", 1),  # the CloudTrail line from a filelog receiver
        ("otlp", 1),  # the HTTP server span
    ]
    assert 'service.name=(none), body=\'{"eventVersion"' in quarantine[1]["reason"]
    destroy = store.rows(
        "SELECT source, severity FROM events WHERE destructive AND command LIKE 'terraform destroy%'"
    )
    assert {d["source"] for d in destroy} == {"claude-code.otel", "agent.otel-spans"}
