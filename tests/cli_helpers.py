"""`agentaudit ARGS...` run in process for tests: typer's CliRunner over the real app."""

from __future__ import annotations

from click.testing import Result
from typer.testing import CliRunner

from agentaudit.cli import app

_runner = CliRunner()


def invoke_cli(*args: object, input: str | None = None, env=None) -> Result:
    """The whole result (exit code, `stdout` apart from `output`), for a test that needs it."""
    return _runner.invoke(app, [str(arg) for arg in args], input=input, env=env)


def run_cli(*args: object, code: int = 0, input: str | None = None, env=None) -> str:
    """The command's output (stdout and stderr), once it exited with `code`."""
    result = invoke_cli(*args, input=input, env=env)
    assert result.exit_code == code, result.output
    return result.output
