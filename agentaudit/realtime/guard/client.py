"""`agentaudit-guard --agent claude-code|cursor|codex`: the hook process itself.

Kept to the standard library so it starts fast: it forwards stdin to the resident helper
(inside `agentaudit watch`, or `agentaudit guard serve`) and prints the answer. With no helper
it decides in-process (slower start, same analysis). Any failure or timeout answers "ask".
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys

from agentaudit.realtime.guard.respond import AGENTS, render

TIMEOUT_ENV = "AGENTAUDIT_GUARD_TIMEOUT"
DEFAULT_TIMEOUT = 2.0


class _Timeout(Exception):
    pass


def ask_on_failure(agent: str, why: str) -> str:
    return render(agent, "ask", f"agentaudit could not decide ({why}); asking rather than allowing")


def via_helper(socket_path: str, agent: str, raw: str, timeout: float) -> dict | None:
    """The helper's answer, or None when no helper listens there."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(socket_path)
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        return None
    with sock:
        sock.sendall(json.dumps({"agent": agent, "payload": raw}).encode("utf-8"))
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return json.loads(b"".join(chunks))


def in_process(agent: str, raw: str, timeout: float) -> str:
    """Decide here, under an alarm: a hung analysis answers "ask", never "allow"."""

    def expire(*_: object) -> None:
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        from agentaudit.realtime.guard.service import Guard, read_only_store_connection

        stdout, _ = Guard(connect=read_only_store_connection, close_connections=True).handle(
            agent, raw
        )
        return stdout
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def decide(agent: str, raw: str, socket_path: str, timeout: float) -> str:
    try:
        answer = via_helper(socket_path, agent, raw, timeout)
        if answer is None:
            return in_process(agent, raw, timeout)
        if "stdout" not in answer:
            return ask_on_failure(agent, answer.get("error", "no answer"))
        return answer["stdout"]
    except (_Timeout, TimeoutError):
        return ask_on_failure(agent, f"no decision within {timeout:g} s")
    except Exception as exc:
        return ask_on_failure(agent, f"{type(exc).__name__}: {exc}")


USAGE = "usage: agentaudit-guard --agent {claude-code,cursor,codex} [--socket PATH] [--timeout S]"


def parse_args(argv: list[str]) -> dict[str, str]:
    """--agent, --socket, --timeout. Hand-parsed: argparse alone costs more start-up time
    than the whole decision through the resident helper."""
    options: dict[str, str] = {}
    words = iter(argv)
    for word in words:
        name, _, value = word.partition("=")
        if name not in ("--agent", "--socket", "--timeout"):
            raise SystemExit(f"{USAGE}\nunknown argument {word!r}")
        options[name[2:]] = value or next(words, "")
    if options.get("agent") not in AGENTS:
        raise SystemExit(f"{USAGE}\n--agent must be one of {', '.join(AGENTS)}")
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_args(sys.argv[1:] if argv is None else argv)
    agent = options["agent"]
    timeout = float(options.get("timeout") or os.environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT)
    socket_path = options.get("socket")
    if not socket_path:
        from agentaudit.realtime.guard.locations import default_socket_path

        socket_path = str(default_socket_path())
    raw = sys.stdin.buffer.read().decode("utf-8", "replace")
    out = decide(agent, raw, socket_path, timeout)
    if out:
        sys.stdout.write(out + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
