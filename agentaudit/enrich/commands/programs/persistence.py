"""Persistence and kills of the services that watch: risky without deleting anything.

Persistence: text appended to shell start-up files (`~/.bashrc`, `~/.profile`, fish's
config, `/etc/profile.d`) that defines aliases or functions or runs commands, a crontab
installed from a file or stdin, keys added to `authorized_keys`. Installers' one-line setup
(an `export`, `PATH=...`, sourcing a tool's env file, `eval "$(tool init)"`) is not.
Kills: sshd, the audit daemon, endpoint sensors and agentaudit's own watcher and guard.
"""

from __future__ import annotations

import re

from agentaudit.enrich.commands.model import Finding
from agentaudit.enrich.commands.parse import SimpleCommand, literal_output
from agentaudit.enrich.commands.programs.base import Context

_STARTUP = re.compile(
    r"(^|/)(\.bashrc|\.bash_profile|\.bash_login|\.bash_logout|\.profile|\.zshrc|\.zprofile|"
    r"\.zshenv|\.zlogin|\.kshrc|\.cshrc|\.tcshrc|config\.fish|bash\.bashrc|profile|"
    r"profile\.d/[^/]+|rc\.local|\.xinitrc|\.xprofile)$"
)
_CRON_FILES = re.compile(
    r"^(/etc/cron\.(d|hourly|daily|weekly|monthly)/|/etc/crontab$|/var/spool/cron)"
)
_KEYS = re.compile(r"(^|/)\.ssh/(authorized_keys2?|rc)$")
# environment variables that make every process load or run something
_HIJACK_VARS = re.compile(r"\b(LD_PRELOAD|LD_LIBRARY_PATH|DYLD_\w+|PROMPT_COMMAND|BASH_ENV|"
                          r"PYTHONSTARTUP|NODE_OPTIONS|PERL5OPT|RUBYOPT)\b")  # fmt: skip
# a line installers document: a variable, PATH, a tool's env file, a tool's init or completion
_SETUP_LINE = re.compile(
    r"""^\s*(export\s+|typeset\s+-x\s+|declare\s+-x\s+)?[A-Za-z_]\w*=|"""
    r"""^\s*(set\s+-[gUx]+|setenv)\s+[A-Za-z_]\w*\s|"""
    r"""^\s*(source|\.)\s+["']?[$~\w./{}-]+["']?\s*$|"""
    r"""^\s*(eval\s+"?\$\(|source\s+<\(|\.\s+<\()\s*[\w./-]+\s+(init|hook|completion|env|shellenv|activate)\b|"""
    r"""^\s*(#.*)?$"""
)
_WATCHERS = re.compile(
    r"(?i)\b(sshd?|auditd|agentaudit[\w-]*|falcon-sensor|falcond|osqueryd?|wazuh[\w-]*|ossec[\w-]*|"
    r"auditbeat|elastic-agent|sentinel\w*|crowdstrike|cbagentd|cylance\w*|clamd|rsyslogd?|"
    r"syslog-ng|systemd-journald|fluent-?bit|td-agent|datadog-agent|splunkd)\b"
)
_NON_FATAL_SIGNALS = {"-0", "-HUP", "-1", "-USR1", "-USR2", "-s0", "-SIGHUP", "-WINCH", "-CONT"}


def _appended_text(cmd: SimpleCommand) -> str | None:
    if cmd.program == "tee":
        return cmd.stdin
    if cmd.program == "echo":  # `$HOME` in a quoted echo is text written to the file
        return " ".join(a for a in cmd.argv[1:] if a not in ("-n", "-e", "-E")) + "\n"
    output = literal_output(cmd)
    return output if output is not None else cmd.stdin


def persistence(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    findings: list[Finding] = []
    targets = [t for op, t in cmd.redirects if op in (">>", ">", ">|")]
    if cmd.program == "tee":
        targets += [a for a in cmd.argv[1:] if not a.startswith("-")]
    for target in targets:
        text = _appended_text(cmd)
        if _KEYS.search(target):
            findings.append(_finding("persistence.authorized-keys", "high",
                                     f"adds a key to {target}: a login that outlives the session",
                                     cmd, target))  # fmt: skip
        elif _CRON_FILES.match(target):
            findings.append(_finding("persistence.cron-file", "high",
                                     f"writes a scheduled job into {target}", cmd, target))  # fmt: skip
        elif _STARTUP.search(target) and (text is None or _runs_something(text, ctx, cmd)):
            inner = ctx.analyze_script(text, cmd.depth + 1) if text else []
            severity = (
                "high" if any(f.severity in ("high", "critical") for f in inner) else "medium"
            )
            findings.append(_finding("persistence.startup-file", severity,
                                     f"appends commands, aliases or functions to {target}: they run "
                                     "in every new shell", cmd, target))  # fmt: skip
    if cmd.program == "crontab":
        args = [a for a in cmd.argv[1:] if a not in ("-u",)]
        installs = [a for a in args if not a.startswith("-")] or (["-"] if "-" in args else [])
        if installs and not {"-l", "-r", "-e"} & set(args):
            text = cmd.stdin or ""
            inner = ctx.analyze_script(_cron_commands(text), cmd.depth + 1) if text else []
            severity = (
                "high" if any(f.severity in ("high", "critical") for f in inner) else "medium"
            )
            findings.append(_finding("persistence.crontab", severity,
                                     "installs a crontab: commands that run on a schedule, "
                                     "outside the session", cmd, installs[0]))  # fmt: skip
    return findings


def _runs_something(text: str, ctx: Context, cmd: SimpleCommand) -> bool:
    if _HIJACK_VARS.search(text):
        return True
    return any(not _SETUP_LINE.match(line) for line in text.splitlines())


def _cron_commands(text: str) -> str:
    """The command part of each crontab line (after the five schedule fields or @reboot)."""
    lines = []
    for line in text.splitlines():
        fields = line.split(None, 5 if not line.startswith("@") else 1)
        if line.strip().startswith("#") or len(fields) < 2:
            continue
        lines.append(fields[-1])
    return "\n".join(lines)


def _finding(rule: str, severity: str, reason: str, cmd: SimpleCommand, target: str) -> Finding:
    return Finding(rule, "persistence", severity, reason, operation=cmd.program, target=target)


def watcher_kill(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    """pkill/killall/kill of sshd, the audit daemon, a sensor or agentaudit itself."""
    args = cmd.argv[1:]
    if "--help" in args or "-h" in args:
        return []
    if any(a.upper() in _NON_FATAL_SIGNALS or a in _NON_FATAL_SIGNALS for a in args):
        return []
    stopping = cmd.program in ("pkill", "killall", "kill", "skill") or (
        cmd.program in ("systemctl", "service", "launchctl")
        and bool({"stop", "kill", "disable", "mask", "unload", "bootout"} & set(args))
    )
    if not stopping:
        return []
    match = next((m for a in args if (m := _WATCHERS.search(a))), None)
    if match is None:
        return []
    name = match.group(1)
    audit = not name.lower().startswith("ssh")
    return [Finding("service.kill-watcher", "audit_tamper" if audit else "service_disrupt",
                    "critical" if audit else "high",
                    f"{cmd.program} stops {name}: "
                    + ("the record of what happens next is lost" if audit else "remote access is cut"),
                    operation=f"{cmd.program} {name}", target=name)]  # fmt: skip
