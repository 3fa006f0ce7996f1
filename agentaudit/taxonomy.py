"""The vocabulary: every value a column, a finding or a page can take, and what it means.

One place for severities (and their order), event kinds, statuses, environments, scopes,
origins, categories, agents and providers. Other modules import these names; they never
spell the order of severities or the list of categories again. `tests/test_taxonomy.py`
checks that every category a catalog, a command pack, a Sigma rule, a SQL rule or a
behaviour can emit or check is registered here.

Standard library only: collectors, the hook process and the store can all import it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# -- severities --------------------------------------------------------------------------------

SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")
SEVERITY_MEANINGS: dict[str, str] = {
    "info": "recorded for context; nothing to review",
    "low": "notable, rarely an incident by itself (regenerable output deleted, a bypass flag)",
    "medium": "review regularly: one destructive call inside the project, a credential read",
    "high": "review promptly: destruction outside the project, of a provider resource",
    "critical": "page now: an incident borders on certainty (backups, home, production)",
}
_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


def severity_rank(severity: str | None) -> int:
    """info 0 .. critical 4; an absent or unknown severity ranks as info."""
    return _RANK.get(severity or "info", 0)


def max_severity(*severities: str | None) -> str:
    return max((s or "info" for s in severities), key=severity_rank, default="info")


def raise_severity(severity: str, steps: int = 1) -> str:
    return SEVERITIES[min(len(SEVERITIES) - 1, severity_rank(severity) + steps)]


def severity_rank_sql(column: str = "severity") -> str:
    """The same rank in SQL (info and unknown values 0)."""
    cases = " ".join(f"WHEN '{name}' THEN {rank}" for name, rank in _RANK.items() if rank)
    return f"CASE {column} {cases} ELSE 0 END"


# -- what an event is --------------------------------------------------------------------------

KINDS: dict[str, str] = {
    "process": "a command line run by an agent's shell tool or typed in a shell",
    "api": "an API call: an agent's web or MCP tool, or a provider's audit record",
    "file": "a file read, written or edited by an agent's file tool",
    "message": "a message: the user's prompt, the agent's reply",
    "auth": "a sign-in, a permission decision, a guard's verdict",
    "other": "anything else a source records (hook lifecycle, a late tool result)",
}
STATUSES: dict[str, str] = {
    "success": "it ran and succeeded",
    "failure": "it ran and failed, or the provider refused it",
    "denied": "it never ran: a permission prompt or the guard said no",
    "unknown": "the source does not say (a call still open when the read ended)",
}
# In order of concern: the first is the one a page names when several are touched.
ENVIRONMENTS: dict[str, str] = {
    "production": "serves real users or holds their data",
    "staging": "a pre-production copy (staging, preview, UAT)",
    "development": "a developer's or test environment (dev, local, sandbox)",
    "unknown": "nothing names the environment",
}
SCOPES: dict[str, str] = {
    "project": "inside the working directory of the session",
    "temp": "a temporary directory (/tmp, /var/tmp)",
    "home": "the user's home directory outside the project",
    "system": "outside the home directory: the system, other users",
    "remote": "another host or a provider's resource, not this machine",
    "unknown": "a path the analysis could not place (a variable, ../ beyond the known cwd)",
}
ORIGINS: dict[str, str] = {
    "agent": "a coding agent's transcript, hook log or telemetry",
    "shell": "a shell history: commands a person or an agent typed",
    "provider": "a cloud, platform or SaaS audit log: the provider's own record",
    "agentaudit": "agentaudit's own records (guard decisions)",
}
# What a user's prompt can forbid (the `instructions` column; agentaudit/enrich/instructions.py).
INSTRUCTIONS: dict[str, str] = {
    "freeze": "no changes at all: a code, deploy or change freeze, hands off",
    "no_delete": "do not delete, drop, wipe or destroy anything",
    "no_prod": "do not touch production",
}
# What a call says about the environment its session works in (the `env_clues` column).
ENV_CLUES: dict[str, str] = {
    "branch": "the git branch checked out or switched to (read for environment words)",
    "railway": "the Railway environment the CLI or RAILWAY_ENVIRONMENT names",
    "aws_profile": "the AWS profile a command uses (--profile, AWS_PROFILE)",
}
# Who let an agent's call run, or stopped it (the `decided_by` column; collectors/agents/_shared.py).
DECIDERS: dict[str, str] = {
    "setting": "a configured rule or allow-list decided without asking",
    "human": "a person answered a permission prompt",
    "classifier": "an automated reviewer or the agent's auto mode decided",
    "hook": "a hook's reply decided (agentaudit's guard among them)",
    "bypass": "permissions were off (bypassPermissions, yolo, never ask)",
    "unknown": "the record does not say",
}
FINDING_KINDS: dict[str, str] = {
    "rule": "one event matched a rule",
    "correlation": "several events matched together (a burst, a sequence)",
    "behaviour": "a session's calls weighed against what the session was doing",
    "model": "the anomaly model scored a window as unusual",
}


def environment_rank(environment: str | None) -> int:
    """0 for production .. 3 for unknown; absent values rank last."""
    order = list(ENVIRONMENTS)
    return order.index(environment) if environment in ENVIRONMENTS else len(order)


# -- categories --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Category:
    name: str
    meaning: str  # what a call in this category does, as a phrase ("destroys backups ...")
    destructive: bool  # sets the events' `destructive` column
    provider_only: bool = False  # only provider audit logs carry it (no command analysis)


def _categories(*rows: tuple[str, bool, str]) -> dict[str, Category]:
    return {name: Category(name, meaning, destructive) for name, destructive, meaning in rows}


def _provider_only(*rows: tuple[str, bool, str]) -> dict[str, Category]:
    return {name: Category(name, meaning, destructive, True) for name, destructive, meaning in rows}


CATEGORIES: dict[str, Category] = _categories(
    # destroys data, backups, history or audit trails
    ("fs_delete", True, "deletes files or directories"),
    ("data_overwrite", True, "overwrites data in place (truncate, dd, a restore over live data)"),
    ("disk_wipe", True, "wipes or reformats a disk or filesystem"),
    ("vcs_history_loss", True, "discards version-control history or uncommitted work"),
    ("db_destroy", True, "drops or empties databases, tables, keyspaces or caches"),
    ("cloud_delete", True, "deletes cloud or platform resources that hold data or serve traffic"),
    ("backup_destroy", True, "destroys backups, snapshots, versioning or keys, or turns them off"),
    ("k8s_delete", True, "deletes Kubernetes resources (namespaces, volumes, workloads)"),
    ("infra_destroy", True, "tears down infrastructure as code (terraform destroy and kin)"),
    ("container_delete", True, "removes containers, images or their volumes"),
    (
        "audit_tamper",
        True,
        "erases, truncates or turns off an audit trail (history, transcripts, provider logs)",
    ),
    ("config_delete", True, "deletes configuration or secrets (variables, config maps, hooks)"),
    ("identity_delete", True, "deletes identities or access (users, roles, keys, members)"),
    ("credential_reset", True, "resets or overwrites a credential others depend on"),
    ("service_disrupt", True, "stops a service, scales it to zero or cuts it off"),
    # risky, destroys nothing by itself
    ("credential_access", False, "reads or prints a secret"),
    ("credential_exfil", False, "sends a credential off the machine in the same command line"),
    (
        "persistence",
        False,
        "installs code to run again later (start-up files, crontab, authorized_keys)",
    ),
    ("safety_bypass", False, "turns off an agent's or a tool's safety checks"),
    ("remote_code_exec", False, "runs code fetched from the network at once (curl | sh)"),
    ("dynamic_exec", False, "runs code hidden from review (decoded or assembled at run time)"),
    ("privilege_change", False, "widens permissions (setuid, chmod 777, GRANT ALL)"),
    (
        "conflicting_duplicate",
        False,
        "reuses a stored record's provider id with other content (a forged or altered copy)",
    ),
) | _provider_only(
    # provider audit logs (catalogs): every entry of a catalog counts as destructive
    ("network_delete", True, "deletes network infrastructure (VPCs, subnets, gateways, zones)"),
    (
        "service_stop",
        True,
        "stops a service or instance without deleting it (stop, scale to 0, archive)",
    ),
    (
        "protection_disable",
        True,
        "turns off a protection against loss (deletion protection, branch protection)",
    ),
    ("ownership_transfer", True, "hands a resource to another owner (repository transfer)"),
    ("visibility_change", True, "changes who can see a resource (a repository made public)"),
)
DESTRUCTIVE_CATEGORIES = frozenset(c.name for c in CATEGORIES.values() if c.destructive)


def is_destructive(categories: Iterable[str] | None) -> bool:
    return any(c in DESTRUCTIVE_CATEGORIES for c in categories or ())


def describe_category(name: str) -> str:
    category = CATEGORIES.get(name)
    return category.meaning if category else name


def category_list_sql(*names: str) -> str:
    """`'a', 'b'` for SQL, refusing a name that is not registered (a typo finds nothing)."""
    unknown = [n for n in names if n not in CATEGORIES]
    if unknown:
        raise KeyError(f"not registered categories: {unknown}")
    return ", ".join(f"'{n}'" for n in names)


# -- agents and providers ----------------------------------------------------------------------

_GIT_FALLBACK = "recover from git (`git status`, `git reflog`) or backups"


@dataclass(frozen=True, slots=True)
class Agent:
    id: str  # the events' `agent` column
    name: str
    vendor: str
    undo: str  # what a page suggests for what the agent changed on this machine
    programs: tuple[str, ...] = ()  # the CLI a shell line launches it with


AGENTS: dict[str, Agent] = {
    a.id: a
    for a in (
        Agent(
            "claude-code",
            "Claude Code",
            "Anthropic",
            "Claude Code's /rewind (Esc Esc) restores files its edit tools changed; what "
            f"shell commands deleted is not in its checkpoints: {_GIT_FALLBACK}",
            ("claude",),
        ),
        Agent(
            "codex",
            "Codex CLI",
            "OpenAI",
            "Codex CLI keeps no checkpoint to roll back to (a ghost snapshot only when its "
            f"undo feature was on): {_GIT_FALLBACK}",
            ("codex",),
        ),
        Agent(
            "cursor",
            "Cursor",
            "Anysphere",
            "Cursor's Restore Checkpoint (on an earlier message of the chat) undoes the "
            f"Agent's file edits; for what its commands deleted, {_GIT_FALLBACK}",
            ("cursor-agent",),
        ),
        Agent(
            "gemini",
            "Gemini CLI",
            "Google",
            "Gemini CLI's /restore rolls files back to a checkpoint when checkpointing is on "
            f"(~/.gemini/history/<project_hash>); otherwise {_GIT_FALLBACK}",
            ("gemini",),
        ),
        Agent(
            "aider",
            "Aider",
            "Aider-AI",
            "Aider commits each edit it makes (/undo in the chat reverts the last one); what "
            f"its shell commands deleted is in no commit: {_GIT_FALLBACK}",
            ("aider",),
        ),
        Agent(
            "openhands",
            "OpenHands",
            "All Hands AI",
            f"OpenHands has no undo of its own: {_GIT_FALLBACK}",
            ("openhands",),
        ),
        Agent(
            "amazon-q",
            "Amazon Q Developer CLI",
            "AWS",
            f"Amazon Q Developer CLI has no undo of its own: {_GIT_FALLBACK}",
            ("q",),
        ),
        Agent(
            "opencode",
            "OpenCode",
            "SST",
            f"OpenCode's /undo reverts its last change; else {_GIT_FALLBACK}",
            ("opencode",),
        ),
        Agent("goose", "Goose", "Block", _GIT_FALLBACK.capitalize(), ("goose",)),
        Agent(
            "copilot",
            "GitHub Copilot CLI",
            "GitHub",
            "Copilot CLI's /rewind restores the files Copilot changed (conversation + files); "
            f"what its shell commands deleted is not in it: {_GIT_FALLBACK}",
            ("copilot",),
        ),
        Agent(
            "vscode-copilot",
            "GitHub Copilot Chat (VS Code)",
            "GitHub",
            "VS Code's Restore Checkpoint (on an earlier request of the chat) undoes the "
            f"agent's file edits; for what its terminal commands deleted, {_GIT_FALLBACK}",
        ),
        Agent(
            "cline",
            "Cline",
            "Cline",
            "Cline's checkpoints (Restore on a step of the task) roll the workspace back from "
            f"its shadow git repository; outside the workspace, {_GIT_FALLBACK}",
        ),
        Agent(
            "roo-code",
            "Roo Code",
            "Roo Code",
            "Roo Code's checkpoints (Restore on a step of the task) roll the workspace back; "
            f"outside the workspace, {_GIT_FALLBACK}",
        ),
        Agent(
            "windsurf",
            "Windsurf Cascade",
            "Cognition",
            "Cascade's revert (on an earlier step of the conversation) undoes its file edits; "
            f"for what its commands deleted, {_GIT_FALLBACK}",
        ),
        Agent(
            "amp",
            "Amp",
            "Sourcegraph",
            f"Amp keeps no checkpoint agentaudit knows of: {_GIT_FALLBACK}",
            ("amp",),
        ),
        Agent(
            "antigravity",
            "Google Antigravity",
            "Google",
            f"Antigravity keeps no checkpoint agentaudit knows of: {_GIT_FALLBACK}",
        ),
        Agent(
            "claude-desktop",
            "Claude Desktop (local agent mode)",
            "Anthropic",
            f"Claude Desktop's local agent mode keeps no checkpoint agentaudit knows of: "
            f"{_GIT_FALLBACK}",
        ),
        Agent("human", "a person (no agent)", "", _GIT_FALLBACK.capitalize()),
        Agent("unknown", "an unknown agent", "", _GIT_FALLBACK.capitalize()),
    )
}


def agent(agent_id: str | None) -> Agent:
    """The registered agent, or one named after an unregistered id (never raises)."""
    if agent_id in AGENTS:
        return AGENTS[agent_id]
    if not agent_id:
        return AGENTS["unknown"]
    return Agent(agent_id, agent_id, "", _GIT_FALLBACK.capitalize())


def agent_programs() -> tuple[str, ...]:
    """Every CLI program that starts a coding agent (a shell line launching a session)."""
    return tuple(p for a in AGENTS.values() for p in a.programs)


@dataclass(frozen=True, slots=True)
class Provider:
    id: str  # catalog and collector vendor id
    name: str


PROVIDERS: dict[str, Provider] = {
    p.id: p
    for p in (
        Provider("aws", "AWS"),
        Provider("gcp", "Google Cloud"),
        Provider("azure", "Azure"),
        Provider("k8s", "Kubernetes"),
        Provider("github", "GitHub"),
        Provider("railway", "Railway"),
        Provider("vercel", "Vercel"),
        Provider("fly", "Fly.io"),
        Provider("heroku", "Heroku"),
        Provider("supabase", "Supabase"),
        Provider("netlify", "Netlify"),
        Provider("render", "Render"),
        Provider("cloudflare", "Cloudflare"),
        Provider("gitlab", "GitLab"),
        Provider("digitalocean", "DigitalOcean"),
        Provider("neon", "Neon"),
        Provider("planetscale", "PlanetScale"),
        Provider("hetzner", "Hetzner"),
        Provider("linode", "Linode"),
        Provider("mongodb-atlas", "MongoDB Atlas"),
        Provider("stripe", "Stripe"),
        Provider("sendgrid", "SendGrid"),
        Provider("mailgun", "Mailgun"),
        Provider("pagerduty", "PagerDuty"),
        Provider("launchdarkly", "LaunchDarkly"),
        Provider("fastly", "Fastly"),
        Provider("datadog", "Datadog"),
        Provider("turso", "Turso"),
        Provider("convex", "Convex"),
        Provider("terraform-cloud", "HCP Terraform"),
        Provider("azure-devops", "Azure DevOps"),
        Provider("cursor", "Cursor"),
        Provider("anthropic", "Anthropic"),
        Provider("postgresql", "PostgreSQL"),
        Provider("mysql", "MySQL / MariaDB"),
        Provider("database", "Database audit records (RDS / Aurora activity streams)"),
    )
}


def provider_name(provider_id: str | None) -> str | None:
    if not provider_id:
        return None
    known = PROVIDERS.get(provider_id)
    return known.name if known else provider_id
