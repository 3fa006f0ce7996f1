"""sigma-cli and the Splunk and Elasticsearch backends installed beside agentaudit (issue 20).

A separate virtualenv (`.venv-sigma` at the repository's top, kept between runs so only the
first run downloads) gets the project's wheel, built now, plus sigma-cli and the two backends,
resolved by pip as a user's `pip install agentaudit sigma-cli pysigma-backend-splunk
pysigma-backend-elasticsearch` would: today that is pySigma 1.5.x, the bottom of the range
pyproject declares. There, `agentaudit rules convert` converts the whole built-in pack for
Splunk and Elasticsearch (ES|QL), sigma-cli converts SigmaHQ rules, and agentaudit's own
findings equal the development environment's (pySigma 2.x) on the same store. Skipped with
the reason when the package registry cannot be reached.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import duckdb
import pytest

from agentaudit.detect.sigma.loader import load_rules
from agentaudit.detect.sigma.run import output_rules, rule_key
from agentaudit.ingest import ingest_paths
from agentaudit.scenarios import scenario_files
from agentaudit.store import Store

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
VENV = Path(os.environ.get("AGENTAUDIT_SIGMA_VENV", REPO / ".venv-sigma"))
TOOLS = ["sigma-cli", "pysigma-backend-splunk", "pysigma-backend-elasticsearch"]
SIGMAHQ_RULES = REPO / "tests" / "data" / "sigmahq" / "rules"
UNREACHABLE = (
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Max retries exceeded",
    "No matching distribution found for sigma-cli",
)


def _run(*args: object, env: dict[str, str] | None = None, cwd: Path | None = None):
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, env=env, cwd=cwd, timeout=1800
    )


def _pip_or_skip(result: subprocess.CompletedProcess, what: str) -> None:
    if result.returncode == 0:
        return
    output = result.stdout + result.stderr
    if any(sign in output for sign in UNREACHABLE):
        pytest.skip(f"package registry unreachable ({what}): {output.strip().splitlines()[-1]}")
    pytest.fail(f"{what} failed:\n{output[-3000:]}")


@pytest.fixture(scope="module")
def tools_bin(tmp_path_factory) -> Path:
    wheels = tmp_path_factory.mktemp("wheel")
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", wheels, REPO)
    _pip_or_skip(built, "building the wheel")
    wheel = next(wheels.glob("agentaudit-*.whl"))
    pip = VENV / "bin" / "pip"
    if not pip.exists():
        shutil.rmtree(VENV, ignore_errors=True)
        venv.create(VENV, with_pip=True)
    _pip_or_skip(_run(pip, "install", "--quiet", wheel, *TOOLS), "installing the tools")
    # the code under test, whatever version the venv held before
    _pip_or_skip(
        _run(pip, "install", "--quiet", "--no-deps", "--force-reinstall", wheel), "reinstall"
    )
    return VENV / "bin"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTAUDIT_", "PYTHON"))}
    return {**env, "AGENTAUDIT_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}


def test_the_tools_install_beside_agentaudit_on_pysigma_1(tools_bin):
    check = _run(tools_bin / "pip", "check")
    assert check.returncode == 0, check.stdout
    version = _run(
        tools_bin / "python", "-c", "import importlib.metadata as m; print(m.version('pysigma'))"
    )
    assert version.stdout.startswith("1."), version.stdout  # what the backends allow today
    targets = _run(tools_bin / "sigma", "list", "targets").stdout
    assert {"splunk", "lucene", "esql"} <= {
        line.split("|")[1].strip() for line in targets.splitlines() if line.startswith("| ")
    }


@pytest.mark.parametrize("target", ["splunk", "esql"])
def test_rules_convert_converts_the_whole_pack(tools_bin, tmp_path, target):
    env = _env(tmp_path)
    as_json = _run(
        tools_bin / "agentaudit",
        "rules",
        "convert",
        "--target",
        target,
        "--json",
        env=env,
        cwd=tmp_path,
    )
    assert as_json.returncode == 0, as_json.stderr
    converted = json.loads(as_json.stdout)
    pack = load_rules()
    wanted = {rule_key(r) for r in output_rules(pack)}
    assert {q["name"] or q["id"] for q in converted["queries"]} == wanted
    assert converted["skipped"] == []
    # no SIEM backend has ordered correlations: the one temporal_ordered rule, said so
    ordered = {
        rule_key(r) for r in pack.rules if str(getattr(r, "type", "")).endswith("temporal_ordered")
    }
    assert {a["name"] for a in converted["approximated"]} == ordered
    # piped: each query as it is, one after the other, never wrapped
    plain = _run(
        tools_bin / "agentaudit", "rules", "convert", "--target", target, env=env, cwd=tmp_path
    )
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == "".join(
        q + "\n" for rule in converted["queries"] for q in rule["queries"]
    )
    assert "approximated" in plain.stderr


def test_sigma_cli_converts_sigmahq_rules_beside_agentaudit(tools_bin, tmp_path):
    out = _run(
        tools_bin / "sigma",
        "convert",
        "-t",
        "splunk",
        "--without-pipeline",
        "-s",
        SIGMAHQ_RULES,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert 'eventName IN ("StopLogging", "UpdateTrail", "DeleteTrail")' in out.stdout


def _findings(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT finding_id, rule_id, severity, kind, title, list_sort(event_ids) "
            "FROM findings ORDER BY finding_id"
        ).fetchall()


def test_findings_are_the_same_on_pysigma_1_and_2(tools_bin, tmp_path):
    """The built-in pack and the SigmaHQ rules on the scenarios' files, run by this
    environment's agentaudit (pySigma 2) and by the tools venv's (pySigma 1.5)."""
    base = tmp_path / "base.duckdb"
    with Store.open(base) as store:
        names = ["pocketos", "amazon-q-wiper", "home-rm-rf", "claude-code-terraform"]
        ingest_paths(store, [p for name in names for p in scenario_files(name)])
    runs = {}
    for label, agentaudit in (
        ("dev", Path(sys.executable).parent / "agentaudit"),
        ("tools", tools_bin / "agentaudit"),
    ):
        db = tmp_path / f"{label}.duckdb"
        shutil.copy(base, db)
        args = [
            "rules",
            "run",
            "--db",
            db,
            "--json",
            "--dir",
            REPO / "agentaudit" / "detect" / "sigma" / "rules",
            "--dir",
            SIGMAHQ_RULES,
        ]
        result = _run(agentaudit, *args, env=_env(tmp_path / label))
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["broken"] == []
        runs[label] = _findings(db)
    assert runs["dev"] and runs["dev"] == runs["tools"]
    assert any(row[1].startswith("sigma:") and "-" in row[1] for row in runs["dev"])  # SigmaHQ ids
    tests = _run(tools_bin / "agentaudit", "rules", "test", "--json", env=_env(tmp_path))
    assert tests.returncode == 0 and json.loads(tests.stdout)["failed"] == 0
