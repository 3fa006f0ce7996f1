"""The hook finds the helper's socket where the helper listens, without importing platformdirs."""

from __future__ import annotations

import pytest

from agentaudit import paths
from agentaudit.realtime.guard.locations import default_socket_path


@pytest.mark.parametrize("xdg_data_home", [None, "/srv/xdg-data", "relative/ignored", ""])
def test_the_default_socket_is_in_the_data_directory_platformdirs_names(
    xdg_data_home, tmp_path, monkeypatch
):
    monkeypatch.delenv("AGENTAUDIT_HOME")
    monkeypatch.delenv("AGENTAUDIT_GUARD_SOCKET", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # paths.home() creates the directory
    if xdg_data_home is None:
        monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    else:
        if xdg_data_home.startswith("/"):
            xdg_data_home = str(tmp_path / xdg_data_home.lstrip("/"))
        monkeypatch.setenv("XDG_DATA_HOME", xdg_data_home)
    assert default_socket_path() == paths.home() / "guard.sock"


def test_agentaudit_home_and_the_socket_variable_move_it(tmp_path, monkeypatch):
    monkeypatch.setenv("AGENTAUDIT_HOME", str(tmp_path / "home"))
    assert default_socket_path() == paths.home() / "guard.sock"
    monkeypatch.setenv("AGENTAUDIT_GUARD_SOCKET", str(tmp_path / "g.sock"))
    assert default_socket_path() == tmp_path / "g.sock"
