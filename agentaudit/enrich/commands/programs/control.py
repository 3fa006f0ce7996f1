"""Tools that apply commands read from stdin or a file: dynamic DNS updates (`nsupdate`) and
runtime control sockets (`socat`/`nc` into HAProxy's admin socket and the like).

The text they are fed is the command: a literal (here-string, heredoc, `echo ... |`) is read;
input known only at run time may hold a deletion, so it is flagged at medium.
"""

from __future__ import annotations

import re

from agentaudit.enrich.commands.model import Finding
from agentaudit.enrich.commands.parse import SimpleCommand
from agentaudit.enrich.commands.programs.base import Context

# nsupdate's own grammar: `update delete NAME ...` or the short `delete NAME` / `del NAME`
_DNS_DELETE = re.compile(r"(?im)^\s*(update\s+)?(delete|del)\b")
# runtime API verbs that take servers or sessions out of service (HAProxy, Varnish, ...)
_RUNTIME_DISRUPT = re.compile(
    r"(?im)^\s*(disable\s+(server|frontend|backend|agent|health)|shutdown\s+(sessions?|frontend|session)|"
    r"del\s+(server|map|acl)|clear\s+(table|map|acl|counters\s+all)|"
    r"set\s+server\s+\S+\s+state\s+(maint|drain)|kill\s+session|ban\b)"
)
_SOCKET_TARGET = re.compile(r"(?i)(\.sock\b|unix-(connect|client):|/run/|/var/run/)")


def nsupdate(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    if cmd.stdin is not None:
        if _DNS_DELETE.search(cmd.stdin):
            return [Finding("dns.nsupdate-delete", "service_disrupt", "high",
                            "nsupdate deletes DNS records", operation="nsupdate delete",
                            scope="remote")]  # fmt: skip
        return []
    return [Finding("dns.nsupdate", "service_disrupt", "medium",
                    "nsupdate applies DNS updates read from a file or the terminal "
                    "(they may delete records)", operation="nsupdate", scope="remote")]  # fmt: skip


def control_socket(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    """`echo 'disable server be/web1' | socat stdio /var/run/haproxy.sock`."""
    if cmd.stdin is None or not any(_SOCKET_TARGET.search(a) for a in cmd.argv[1:]):
        return []
    match = _RUNTIME_DISRUPT.search(cmd.stdin)
    if not match:
        return []
    verb = " ".join(match.group(0).split()[:2])
    return [Finding("control.runtime-disrupt", "service_disrupt", "medium",
                    f"'{verb}' sent to a control socket takes servers or sessions out of service",
                    operation=f"{cmd.program} {verb}")]  # fmt: skip


PROGRAMS = {
    "nsupdate": nsupdate,
    **{name: control_socket for name in ("socat", "nc", "ncat", "netcat")},
}
