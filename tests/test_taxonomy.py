"""The vocabulary is one module: every category a catalog, a command pack, a Sigma rule, a
SQL rule or a behaviour can emit or check is registered in agentaudit.taxonomy, every
checked category is emitted by something, severity order is spelled once, and every
collector describes itself in registered words (no layer reads meaning into source names).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

import agentaudit
from agentaudit import taxonomy
from agentaudit.collectors import all_collectors
from agentaudit.detect.anomaly import features
from agentaudit.detect.driver import builtin_detectors
from agentaudit.detect.sigma.loader import BUILTIN_DIR
from agentaudit.enrich import catalog
from agentaudit.enrich.catalog import providers
from agentaudit.enrich.commands.packs import all_rules
from agentaudit.enrich.environments import env_clues
from agentaudit.ingest.discover import expand_root
from agentaudit.store.conflicts import CONFLICT_CATEGORY

PACKAGE = Path(agentaudit.__file__).resolve().parent
REPO = PACKAGE.parent
CATALOGS = PACKAGE / "enrich" / "catalog"
COMMANDS = PACKAGE / "enrich" / "commands"
# snake_case string constants in the emitters that are not categories
NOT_CATEGORIES = {
    "needs_record",  # catalog/__init__.py: the optional function a catalog module defines
    "remove_tree",  # programs/inline.py: distutils' remove_tree, a Python delete call
    "pg_restore",  # programs/settings.py: the PostgreSQL program
    # issue 19's platform catalogs: record keys and resource types they read
    "event_data",
    "is_active",
    "general_data",
    "query_data",
    "is_destroy",
    "state_version",
    "authentication_token",
    "agent_pool",
}
_SNAKE = re.compile(r"[a-z]+(?:_[a-z]+)+")
_QUOTED_SNAKE = re.compile(r"'([a-z]+(?:_[a-z]+)+)'")


def _literals(paths: list[Path]) -> dict[str, set[str]]:
    """Every snake_case string constant of these Python files, by file (a one-word category,
    `persistence`, is only told from other words when it is registered)."""
    found: dict[str, set[str]] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            value = node.value if isinstance(node, ast.Constant) else None
            if not isinstance(value, str) or value in NOT_CATEGORIES:
                continue
            if _SNAKE.fullmatch(value) or value in taxonomy.CATEGORIES:
                found.setdefault(str(path.relative_to(REPO)), set()).add(value)
    return found


def _modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("test_"))


def catalog_categories() -> dict[str, set[str]]:
    return _literals(_modules(CATALOGS))


def command_categories() -> dict[str, set[str]]:
    """Categories command analysis emits: the literals of every module that builds a
    `Finding` (the packs are data: their YAML is read below)."""
    builders = [
        path
        for path in sorted(COMMANDS.rglob("*.py"))
        if not path.name.startswith("test_")
        and path.name != "packs.py"
        and "Finding(" in path.read_text(encoding="utf-8")
    ]
    assert len(builders) > 10
    found = _literals(builders)
    allow, deny = all_rules()
    for rule in (*allow, *deny):
        extra = {c for _severity, c in rule.escalate.values() if c}
        found.setdefault(f"packs: {rule.id}", set()).update({rule.category, *extra} - {""})
    return found


def sigma_categories() -> dict[str, set[str]]:
    """Values the Sigma rules match in the `categories` column."""
    found: dict[str, set[str]] = {}

    def walk(node: object, rule: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if str(key).split("|")[0] == "categories":
                    values = value if isinstance(value, list) else [value]
                    found.setdefault(rule, set()).update(str(v) for v in values)
                else:
                    walk(value, rule)
        elif isinstance(node, list):
            for item in node:
                walk(item, rule)

    for path in sorted(BUILTIN_DIR.glob("*.yml")):
        if path.name.endswith(".tests.yml"):
            continue
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            walk((document or {}).get("detection"), f"sigma: {path.name}")
    return found


def detector_literals() -> dict[str, set[str]]:
    """Quoted snake_case values in the SQL of every Python detector (and the model's features):
    SQL values that look like categories are categories, instructions or env clues."""
    found = {}
    for detector in builtin_detectors():
        if detector.info.id == "sigma":
            continue  # its SQL is built from the rules, read above
        sql = detector.query() + (detector.anchor or "")
        found[detector.info.id] = set(_QUOTED_SNAKE.findall(sql))
    found["anomaly features"] = set(_QUOTED_SNAKE.findall(features._SQL))
    return found


def _unregistered(found: dict[str, set[str]], registered: set[str]) -> dict[str, list[str]]:
    return {
        where: sorted(names - registered) for where, names in found.items() if names - registered
    }


def test_every_category_emitted_is_registered():
    registered = set(taxonomy.CATEGORIES)
    assert _unregistered(catalog_categories(), registered) == {}
    assert _unregistered(command_categories(), registered) == {}


def test_every_category_checked_is_registered_and_emitted_by_something():
    emitted = {c for names in catalog_categories().values() for c in names}
    emitted |= {c for names in command_categories().values() for c in names}
    emitted.add("credential_access")  # enrichment: a secret read or printed
    emitted.add(CONFLICT_CATEGORY)  # the store: a provider id reused with other content
    words = set(taxonomy.INSTRUCTIONS) | set(taxonomy.ENV_CLUES)
    assert _unregistered(sigma_categories(), emitted) == {}
    assert _unregistered(detector_literals(), emitted | words) == {}


def test_no_registered_category_is_dead():
    from_catalogs = {c for names in catalog_categories().values() for c in names}
    from_commands = {c for names in command_categories().values() for c in names}
    emitted = from_catalogs | from_commands | {"credential_access", CONFLICT_CATEGORY}
    assert sorted(set(taxonomy.CATEGORIES) - emitted) == []
    # (command analysis may name one only to translate it: programs/aws.py files a catalog's
    # network_delete under cloud_delete; the packs are checked against COMMAND_CATEGORIES)
    provider_only = {n for n, c in taxonomy.CATEGORIES.items() if c.provider_only}
    assert provider_only <= from_catalogs


def test_the_five_provider_categories_are_registered_with_a_meaning():
    for name in (
        "network_delete",
        "service_stop",
        "protection_disable",
        "ownership_transfer",
        "visibility_change",
    ):
        category = taxonomy.CATEGORIES[name]
        assert category.destructive and category.provider_only and len(category.meaning) > 15
    assert "data_destroy" not in taxonomy.CATEGORIES  # checked once, emitted by nothing


def test_severity_rank_is_the_one_order():
    assert [taxonomy.severity_rank(s) for s in taxonomy.SEVERITIES] == [0, 1, 2, 3, 4]
    assert taxonomy.severity_rank(None) == taxonomy.severity_rank("bogus") == 0
    assert taxonomy.max_severity("low", None, "high", "medium") == "high"
    assert taxonomy.raise_severity("high", 3) == "critical"
    sql = taxonomy.severity_rank_sql("s")
    from agentaudit.store import Store

    with Store.open(":memory:") as store:
        ranks = [
            store.rows(f"SELECT {sql} AS r FROM (SELECT ? AS s)", [s])[0]["r"]
            for s in (*taxonomy.SEVERITIES, "bogus")
        ]
    assert ranks == [0, 1, 2, 3, 4, 0]


# Spelling the order again: a tuple or list of the names in order, an .index() over them, a
# SQL CASE that ranks them, a dict of them to numbers.
_ORDER_SPELLED = re.compile(
    r"""["']info["'],\s*["']low["'],\s*["']medium["']"""
    r"""|["']critical["'],\s*["']high["'],\s*["']medium["']"""
    r"""|WHEN\s+'(?:critical|high)'\s+THEN\s+\d"""
    r"""|["'](?:info|critical)["']:\s*\d"""
)


def test_severity_order_is_spelled_only_in_the_taxonomy():
    offenders = []
    for root in (PACKAGE, REPO / "collectors", REPO / "dashboards"):
        for path in root.rglob("*.py"):
            inside = path.relative_to(root).parts[0]
            if path.name.startswith("test_") or path.name == "taxonomy.py":
                continue
            if root == PACKAGE and inside in ("collectors", "dashboards"):
                continue  # links to the top-level folders, read as themselves
            text = path.read_text(encoding="utf-8")
            offenders += [
                f"{path.relative_to(REPO)}: {m[0]}" for m in _ORDER_SPELLED.finditer(text)
            ]
    assert offenders == []


# ingest --discover's sources: one label a location, each declared by its collector
DISCOVERED = {
    "Aider chat history": "aider.history",
    "Claude Code hook log": "claude-code.hooks",
    "Claude Code OTLP spool": "claude-code.otel",
    "Claude Code transcripts": "claude-code.transcript",
    "Codex hook log": "codex.hooks",
    "Codex legacy sessions": "codex.session_json",
    "Codex rollouts": "codex.rollout",
    "Cursor agent transcripts": "cursor.transcript",
    "Cursor hook log": "cursor.hooks",
    "Gemini CLI chats": "gemini.chat",
    "Gemini CLI hook log": "gemini.hooks",
    "OTLP spool (serve --spool, watch)": "otlp.spool",
    "OpenHands events": "openhands.trajectory",
    "Amp threads": "amp.thread",
    "Antigravity hook log": "antigravity.hooks",
    "Antigravity transcripts": "antigravity.transcript",
    "Atuin history": "shell.atuin",
    "Claude Code MCP logs": "claude-code.mcp",
    "Claude Desktop agent audit logs": "claude-desktop.audit",
    "Cline CLI tasks": "cline.task",
    "Cline tasks": "cline.task",
    "Copilot CLI hook log": "copilot.hooks",
    "Copilot CLI sessions": "copilot.session",
    "Gemini CLI telemetry outfile": "gemini.otel",
    "Guard decisions": "agentaudit.guard",
    "OpenCode database": "opencode.db",
    "OpenCode session files": "opencode.storage",
    "PowerShell history": "shell.powershell",
    "PowerShell transcripts": "shell.powershell_transcript",
    "Roo Code tasks": "roo-code.task",
    "VS Code Copilot Chat sessions": "vscode-copilot.chat",
    "Windsurf hook log": "windsurf.hooks",
    "bash history": "shell.bash",
    "fish history": "shell.fish",
    "zsh history": "shell.zsh",
}


def test_collectors_describe_themselves_in_registered_words():
    from agentaudit.collectors.agents import otel_metrics, otel_traces

    collectors = all_collectors()
    for name, collector in collectors.items():
        assert collector.origin in taxonomy.ORIGINS, name
        if collector.origin == "agent":  # None: several agents' records, each event names it
            assert collector.agent in (None, *taxonomy.AGENTS) and not collector.vendor, name
        elif collector.origin == "provider":
            assert collector.vendor in taxonomy.PROVIDERS and not collector.agent, name
            assert collector.vendor in catalog._PROVIDERS, name  # its destructive catalog
        else:
            assert not collector.vendor, name
    for module in (otel_metrics, otel_traces):  # the agents those multi-agent formats name
        assert set(module.AGENTS.values()) <= set(taxonomy.AGENTS), module.__name__
    assert {c.name for c in collectors.values() if c.splittable} == {"aws.cloudtrail"}
    declared = {location.label: c.name for c in collectors.values() for location in c.locations}
    assert declared == DISCOVERED


def test_location_roots_expand(tmp_path):
    places = {
        "home": tmp_path / "h",
        "cwd": tmp_path / "c",
        "hooks": tmp_path / "k",
        "data": tmp_path / "d",
    }
    env = {"CLAUDE_CONFIG_DIR": "/a,/b", "CODEX_HOME": "/x/codex"}
    assert expand_root("$CLAUDE_CONFIG_DIR/projects", places, env) == [
        Path("/a/projects"),
        Path("/b/projects"),
    ]
    assert expand_root("$CLAUDE_CONFIG_DIR/projects", places, {}) == []
    assert expand_root("${CODEX_HOME:-~/.codex}/sessions", places, env) == [
        Path("/x/codex/sessions")
    ]
    assert expand_root("${CODEX_HOME:-~/.codex}/sessions", places, {}) == [
        tmp_path / "h/.codex/sessions"
    ]
    assert expand_root("{data}/otlp", places, {}) == [tmp_path / "d/otlp"]
    assert expand_root("{hooks}", places, {}) == [tmp_path / "k"]
    assert expand_root("{cwd}", places, {}) == [tmp_path / "c"]
    for collector in all_collectors().values():
        for location in collector.locations:
            for root in location.roots:
                assert all(p.is_absolute() for p in expand_root(root, places, env)), root


def test_providers_and_agent_programs_are_registered():
    assert set(providers.HOSTS.values()) <= set(taxonomy.PROVIDERS)
    assert set(providers.CLIS.values()) <= set(taxonomy.PROVIDERS)
    from agentaudit.detect.link import AGENT_CLIS

    assert {"claude", "codex", "gemini", "q", "cursor-agent", "aider"} <= set(AGENT_CLIS)
    for agent in taxonomy.AGENTS.values():
        assert agent.name and agent.undo, agent.id
    assert taxonomy.agent("not-an-agent").name == "not-an-agent"


def test_instruction_and_clue_words_match_what_enrichment_writes():
    from agentaudit.enrich import event

    assert [kind for kind, _pattern in event._INSTRUCTIONS] == list(taxonomy.INSTRUCTIONS)
    clues = env_clues(
        "AWS_PROFILE=prod-admin railway environment production", "On branch release/prod"
    )
    assert [c.split("=", 1)[0] for c in clues] == list(taxonomy.ENV_CLUES)


# Source names are ids, not meaning: nothing outside the collectors reads an agent, a shell
# or a provider into one (`source.startswith("shell.")`, `LIKE 'shell.%'`, `split(".")[0]`).
_NAME_GUESS = re.compile(
    r"""startswith\(\(?\s*["'](?:shell\.|cursor|claude|codex|gemini|aider\.|openhands\.|railway\.|aws\.)"""
    r"""|source\s+(?:NOT\s+)?LIKE\s+'[a-z-]+\.%'"""
    r"""|source["']?\]?\.split\(["']\.["']"""
)


def test_no_layer_guesses_from_source_names():
    paths = [*PACKAGE.rglob("*.py"), *(REPO / "dashboards").rglob("*.py")]
    offenders = []
    for path in paths:
        inside = path.relative_to(REPO).parts
        # the collectors know their own formats; agentaudit/{collectors,dashboards} are links
        if path.name.startswith("test_") or inside[:2] in (
            ("agentaudit", "collectors"),
            ("agentaudit", "dashboards"),
        ):
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.relative_to(REPO)}: {m[0]}" for m in _NAME_GUESS.finditer(text)]
    assert len(paths) > 100
    assert offenders == []
