"""Command analysis: what a shell command line does, decided the way the shell would run it.

`analyze_command(command, cwd=...)` parses with tree-sitter-bash, canonicalizes each simple
command (wrappers, quoting and expansion evasions), recurses into code that runs code, and
classifies it with per-program analysers and YAML rule packs. `analyze(command)` is the
cwd-less form used at ingest. See docs/ARCHITECTURE.md, "Command analysis".
"""

from __future__ import annotations

from agentaudit.enrich.commands.analysis import analyze, analyze_command
from agentaudit.enrich.commands.model import CommandAnalysis, Finding

__all__ = ["CommandAnalysis", "Finding", "analyze", "analyze_command"]
