"""The wheel a user installs: one top-level package, every module of it, no tests."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import PurePosixPath

import pytest

from tests import import_graph

pytestmark = pytest.mark.slow  # builds the wheel with pip (a few seconds, more under load)


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> list[str]:
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), "."],
        cwd=import_graph.REPO,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = out.glob("agentaudit-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def test_only_agentaudit_at_the_top_level(wheel_names):
    tops = {PurePosixPath(name).parts[0] for name in wheel_names}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"agentaudit"}


def test_no_test_module_conftest_or_bytecode(wheel_names):
    def is_test(name: str) -> bool:
        path = PurePosixPath(name)
        return (
            path.name.startswith("test_")
            or path.name.endswith("_test.py")
            or path.name == "conftest.py"
            or "tests" in path.parts
            or path.suffix == ".pyc"
        )

    assert [name for name in wheel_names if is_test(name)] == []


def test_collectors_and_dashboards_are_inside_the_package_with_every_module(wheel_names):
    shipped = {
        str(PurePosixPath(*path.relative_to(import_graph.REPO).parts))
        for path, _ in import_graph.module_paths().values()
    }
    assert "agentaudit/collectors/base.py" in shipped  # through the symlink
    assert "agentaudit/dashboards/app.py" in shipped
    assert sorted(shipped - set(wheel_names)) == []
    assert "agentaudit/py.typed" in wheel_names
