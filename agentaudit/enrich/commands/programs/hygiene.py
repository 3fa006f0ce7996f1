"""Secret access, audit-trail tampering and safety bypasses: risky without destroying data
(except tampering, which destroys the record of what happened)."""

from __future__ import annotations

import re

from agentaudit.enrich.commands.model import Finding
from agentaudit.enrich.commands.parse import SimpleCommand
from agentaudit.enrich.commands.programs.base import Context, parse_args

SECRET_WORDS = re.compile(
    r"(?i)(token|secret|passw|api[_-]?key|access[_-]?key|credential|private[_-]?key|"
    r"aws_(secret|access|session)|ghp_|github_pat_|bearer|BEGIN (RSA|OPENSSH|EC) PRIVATE)"
    # an upper-case environment-variable name of a platform that authenticates with a token
    # (`grep -rn RAILWAY .`): upper case only, so `grep aws_db_instance` is a code search
    r"|(?-i:\b(AWS_|RAILWAY|VERCEL_|NETLIFY_|HEROKU_|FLY_|GH_|GITHUB_|GITLAB_|STRIPE_|"
    r"OPENAI_|ANTHROPIC_|DATABASE_URL|DB_PASS|SUPABASE_|CLOUDFLARE_|DIGITALOCEAN_))"
)
_SECRET_FILE = re.compile(
    r"(?i)(^|/)(\.env(\.(?!example|sample|template|dist)[\w.-]+)?|\.envrc|\.netrc|\.npmrc|\.pypirc|"
    r"\.git-credentials|credentials(\.json)?|id_(rsa|ed25519|ecdsa|dsa)|[\w.-]+\.(pem|key|p12|pfx)|"
    r"shadow|\.pgpass|\.my\.cnf|kubeconfig|secrets?\.(ya?ml|json|toml))$"
)
_SECRET_DIRS = ("/.aws/", "/.ssh/", "/.config/gcloud/", "/.kube/", "/.docker/", "/.azure/")
_READERS = {
    "cat", "less", "more", "head", "tail", "bat", "strings", "xxd", "hexdump", "od", "nl", "tac",
    "source", ".", "cp", "scp", "base64", "sed", "awk", "jq", "yq", "open", "vim", "vi", "nano",
    "code", "type", "view", "grep", "rg", "ag", "ack", "diff", "sort", "uniq", "cut", "curl",
}  # fmt: skip
_SEARCHERS = {"grep", "egrep", "fgrep", "rg", "ag", "ack", "git-grep"}
_HISTORY = re.compile(
    r"(^|/)(\.?(bash|zsh|fish|sh|python|node_repl|psql|mysql)_history|\.histfile|fish_history)$"
)
_LOGS = re.compile(r"^(/var/log(/|$)|/var/audit|/var/spool/mail|/private/var/log)")
# agents' own transcripts: the record of what the agent did
_AGENT_LOGS = re.compile(
    r"(^|/)\.(claude/(projects|history\.jsonl|todos)|codex/(sessions|history\.jsonl|log)|"
    r"gemini/tmp|aider\.chat\.history\.md|cursor/(logs|chats)|continue/sessions)(/|$)"
)
_OUR_STORE = re.compile(r"(agentaudit[\w./-]*\.duckdb|/agentaudit(/|$)|\.agentaudit(/|$))")
_BYPASS_FLAGS = {
    "--dangerously-skip-permissions", "--allow-dangerously-skip-permissions", "--yolo",
    "--trust-all-tools", "--dangerously-bypass-approvals-and-sandbox", "--full-auto",
    "--no-sandbox", "--approval-mode=yolo", "--permission-mode=bypassPermissions",
}  # fmt: skip
_BYPASS_ENV = {"PRISMA_USER_CONSENT_FOR_DANGEROUS_AI_ACTION", "CLAUDE_CODE_SKIP_PERMISSIONS"}
_HISTORY_ENV = {"HISTFILE", "HISTSIZE", "HISTFILESIZE", "SAVEHIST"}


_PUBLIC_SSH = re.compile(r"(^|/)\.ssh/(authorized_keys2?|known_hosts(\.old)?|config|[\w.-]+\.pub)$")


def is_secret_path(path: str) -> bool:
    if _PUBLIC_SSH.search(path):
        return False  # public keys, host keys and client config hold no secret
    return bool(_SECRET_FILE.search(path)) or any(d in "/" + path.lstrip("~") for d in _SECRET_DIRS)


def secret_reads(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    name = cmd.program
    findings: list[Finding] = []
    args = [a for a in cmd.argv[1:] if not a.startswith("-")]
    if name in _READERS:
        files = [a for a in args if is_secret_path(a)]
        files += [t for op, t in cmd.redirects if op == "<" and is_secret_path(t)]
        if files and (name not in ("cp", "scp") or files[:1] == args[:1]):
            findings.append(
                Finding("secrets.read-file", "credential_access", "medium",
                        f"{name} reads secret file {files[0]}", operation=f"{name} {files[0]}",
                        target=files[0])
            )  # fmt: skip
    if name in _SEARCHERS or (name == "git" and args[:1] == ["grep"]):
        pattern = next((a for a in args if a != "grep"), "")
        if SECRET_WORDS.search(pattern):
            findings.append(
                Finding("secrets.search", "credential_access", "medium",
                        f"{name} searches for secrets ({pattern[:40]})", operation=name)
            )  # fmt: skip
    if name in ("printenv", "env", "set", "export", "declare") and (
        len(cmd.argv) == 1 or cmd.argv[1:] in (["-p"], ["-x"])
    ):
        findings.append(
            Finding("secrets.dump-env", "credential_access", "medium",
                    f"{name} prints every environment variable, secrets included", operation=name)
        )  # fmt: skip
    if name == "printenv" and args and SECRET_WORDS.search(" ".join(args)):
        findings.append(
            Finding("secrets.print-var", "credential_access", "medium",
                    f"printenv {args[0]} prints a secret", operation=name, target=args[0])
        )  # fmt: skip
    if name in ("echo", "printf") and re.search(
        r"\$\{?\w*(TOKEN|SECRET|PASSWORD|API_KEY|ACCESS_KEY)", " ".join(args), re.I
    ):
        findings.append(
            Finding("secrets.echo-var", "credential_access", "medium", "prints a secret variable",
                    operation=name)
        )  # fmt: skip
    return findings


def audit_tamper(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    name = cmd.program
    args = cmd.argv[1:]
    reason = None
    if name == "history" and ({"-c", "-cw"} & set(args) or args[:1] == ["-d"]):
        reason = "history -c clears the shell history"
    elif name == "unset" and _HISTORY_ENV & set(args):
        reason = "unset HISTFILE stops recording shell history"
    elif name in ("export", "declare", "typeset", "set") and any(
        a.split("=", 1)[0] in _HISTORY_ENV and a.split("=", 1)[1] in ("", "0", "/dev/null")
        for a in args
        if "=" in a
    ):
        reason = "history variables set to drop the shell history"
    elif name == "set" and args[:2] == ["+o", "history"]:
        reason = "set +o history stops recording"
    elif (
        name in ("sed", "gsed", "perl")
        and any(
            a.startswith("-i") or a.startswith("--in-place") or (name == "perl" and "i" in a[1:3])
            for a in args
            if a.startswith("-")
        )
        and any(_HISTORY.search(a) or _LOGS.match(a) or _AGENT_LOGS.search(a) for a in args)
    ):
        reason = f"{name} -i edits shell history, system logs or agent transcripts in place"
    elif name in ("rm", "shred", "truncate", "unlink", "srm", "mv", "ln", "cp") and any(
        _HISTORY.search(a) or _LOGS.match(a) or _OUR_STORE.search(a) or _AGENT_LOGS.search(a)
        for a in args
        if not a.startswith("-")
    ):
        reason = f"{name} destroys shell history, system logs or the agentaudit store"
        if name == "cp" and not any(a == "/dev/null" for a in args):
            reason = None
        if name == "ln" and "/dev/null" not in args:
            reason = None
    elif name == "journalctl" and any(a.startswith(("--vacuum", "--rotate")) for a in args):
        reason = "journalctl --vacuum deletes system logs"
    elif name == "auditctl" and ("-D" in args or ("-e" in args and "0" in args)):
        reason = "auditctl disables or clears audit rules"
    elif (
        name in ("systemctl", "service")
        and any(a in ("auditd", "rsyslog", "syslog", "systemd-journald") for a in args)
        and any(a in ("stop", "disable", "mask") for a in args)
    ):
        reason = "stops the system audit or log service"
    for op, target in cmd.redirects:
        if op in (">", ">|", "&>") and (
            _HISTORY.search(target) or _LOGS.match(target) or _OUR_STORE.search(target)
        ):
            reason = f"redirect {op} truncates {target}"
    if not reason:
        return []
    return [Finding("audit.tamper", "audit_tamper", "critical", reason, operation=name)]


def safety_bypass(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    findings = []
    flags = [a for a in cmd.argv[1:] if a in _BYPASS_FLAGS or a.split("=")[0] in _BYPASS_FLAGS]
    if flags:
        findings.append(
            Finding("bypass.agent-permissions", "safety_bypass", "medium",
                    f"{cmd.program} {flags[0]} turns off the agent's permission checks",
                    operation=f"{cmd.program} {flags[0]}")
        )  # fmt: skip
    env_hits = [k for k in cmd.env if k in _BYPASS_ENV]
    if cmd.program == "export":
        env_hits += [a.split("=")[0] for a in cmd.argv[1:] if a.split("=")[0] in _BYPASS_ENV]
    if env_hits:
        findings.append(
            Finding("bypass.consent-env", "safety_bypass", "medium",
                    f"{env_hits[0]} pre-approves a dangerous action on the agent's behalf",
                    operation=env_hits[0])
        )  # fmt: skip
    return findings


def assume_yes(argv: list[str]) -> bool:
    parsed = parse_args(argv[1:])
    return bool(
        {"--yes", "--force", "--auto-approve", "-auto-approve", "--no-confirm", "--confirm",
         "--non-interactive", "--assume-yes", "--quiet-yes"} & (parsed.long | set(argv))
        or "y" in parsed.short
    )  # fmt: skip
