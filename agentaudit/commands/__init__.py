"""Command analysis: what a shell command line does, decided from its words, not its text.

`analyze(command)` splits the line into simple commands (shlex, quote-aware), strips
wrappers (`sudo`, `env`, `VAR=value`), and hands each argv to the analyser of its program.
The result names the operation, whether it destroys something, the categories and the
target. This is the Foundation analyser; deeper shell semantics (tree-sitter-bash,
evasions) plug in behind the same `analyze` signature.
"""

from __future__ import annotations

from agentaudit.commands.analysis import CommandAnalysis, analyze

__all__ = ["CommandAnalysis", "analyze"]
