"""Each agent's own hook response for allow / ask / deny (stdlib only: the client uses it).

- Claude Code PreToolUse: `{"hookSpecificOutput": {"hookEventName": "PreToolUse",
  "permissionDecision": "allow"|"ask"|"deny", "permissionDecisionReason": ...}}`, exit 0.
  An explicit "allow" skips Claude Code's own permission prompt, so by default guard prints
  nothing on allow and the user's own permission rules still apply.
- Codex PreToolUse: the same shape; Codex honours deny but cannot ask a human from a hook,
  so "ask" is answered as deny with the reason (policy `codex_ask: pass` leaves it to Codex).
- Cursor beforeShellExecution / preToolUse: `{"permission": "allow"|"ask"|"deny",
  "user_message": ..., "agent_message": ...}`.
"""

from __future__ import annotations

import json

AGENTS = ("claude-code", "cursor", "codex")
AGENT_NOTE = {
    "deny": "Do not retry this another way (another tool, a script, an API call); "
    "tell the user what you wanted to do and why.",
    "ask": "A human must confirm this call.",
}


def render(
    agent: str,
    decision: str,
    reason: str,
    *,
    explicit_allow: bool = False,
    codex_ask: str = "deny",
) -> str:
    """The text to print on stdout (may be empty: no opinion); the hook exits 0."""
    if agent == "cursor":
        note = AGENT_NOTE.get(decision)
        return json.dumps(
            {
                "permission": decision,
                "user_message": reason,
                "agent_message": f"{reason} {note}" if note else reason,
            }
        )
    if agent == "codex" and decision == "ask":
        if codex_ask == "pass":
            return ""
        decision, reason = (
            "deny",
            f"needs a human's confirmation (Codex hooks cannot ask): {reason}",
        )
    if decision == "allow" and not explicit_allow:
        return ""
    if decision != "allow":
        reason = f"{reason} {AGENT_NOTE[decision]}"
    return json.dumps(
        {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": decision,
                "permissionDecisionReason": reason,
            }
        }
    )
