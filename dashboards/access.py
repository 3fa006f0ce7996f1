"""The token gate: with $AGENTAUDIT_DASHBOARD_TOKEN set (`agentaudit dashboard --token`, required
off loopback), no page runs until the browser's session has entered that token.

Streamlit has no token authentication of its own (its `st.login` needs an OIDC provider), so
the app checks it before any page reads the store.
"""

from __future__ import annotations

import hmac
import os

import streamlit as st

TOKEN_ENV = "AGENTAUDIT_DASHBOARD_TOKEN"


def require_token() -> None:
    """Return when no token is configured or this session entered it; else ask and stop."""
    expected = os.environ.get(TOKEN_ENV)
    if not expected or st.session_state.get("agentaudit_token_ok"):
        return
    st.title("agentaudit")
    given = st.text_input("Access token", type="password", key="agentaudit_token")
    if given and hmac.compare_digest(given.encode(), expected.encode()):
        st.session_state["agentaudit_token_ok"] = True
        st.rerun()
    if given:
        st.error("That token is not the one this dashboard was started with.")
    st.stop()
