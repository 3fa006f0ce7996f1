import pytest

from agentaudit.detect.behaviours.delete_outside_project import DeleteOutsideProject
from agentaudit.testing import event, findings_of

CWD = "/home/dev/work/api"


def findings(command):
    return findings_of(DeleteOutsideProject)([event(0, session_id="s1", command=command, cwd=CWD)])


@pytest.mark.parametrize(
    "command",
    [
        'rm -rf "$HOME"',
        "rm -rf ~/",
        "rm -rf /",
        "rm -rf $BUILD_DIR/",
        "cd /tmp && rm -rf /home/dev",
    ],
)
def test_home_root_and_unguarded_variables_are_critical(command):
    result = findings(command)
    assert len(result) == 1 and result[0]["severity"] == "critical"


def test_outside_the_project_is_high():
    result = findings("rm -rf /home/dev/other-project")
    assert [f["severity"] for f in result] == ["high"]
    assert findings("rm -rf ~/Documents")[0]["severity"] == "high"


@pytest.mark.parametrize(
    "command",
    [
        "rm -rf build",
        "rm -rf /home/dev/work/api/dist",
        "rm -rf ~/work/api/node_modules",
        "rm -rf /tmp/x",
        "rm -rf ~/.cache/pip",
    ],
)
def test_inside_the_project_or_caches_is_silent(command):
    assert findings(command) == []
