"""The dashboard's token gate under Streamlit's AppTest (the browser test drives it for real)."""

from __future__ import annotations

import pytest

pytest.importorskip("streamlit", reason="the dashboard extra is not installed")
from streamlit.testing.v1 import AppTest


def gated_page():
    import streamlit as st

    from agentaudit.dashboards.access import require_token

    require_token()
    st.write("data from the store")


def texts(app: AppTest) -> list[str]:
    return [m.value for m in app.markdown]


def test_without_a_token_configured_the_page_runs(monkeypatch):
    monkeypatch.delenv("AGENTAUDIT_DASHBOARD_TOKEN", raising=False)
    app = AppTest.from_function(gated_page, default_timeout=60).run()
    assert texts(app) == ["data from the store"] and not app.text_input


def test_nothing_runs_until_the_session_enters_the_token(monkeypatch):
    monkeypatch.setenv("AGENTAUDIT_DASHBOARD_TOKEN", "s3cret")
    app = AppTest.from_function(gated_page, default_timeout=60).run()
    assert [t.label for t in app.text_input] == ["Access token"]
    assert "data from the store" not in texts(app)
    app.text_input[0].input("guess").run()
    assert app.error and "data from the store" not in texts(app)
    app.text_input[0].input("s3cret").run()
    assert not app.exception
    assert texts(app) == ["data from the store"] and not app.text_input
