"""Forms that only describe what a command would do: help, dry runs, plans and previews.

`harmless_mode(program, inv)` names the mode (`help`, `dry-run`, ...) when the program's own
documentation says the form changes nothing, else None. Values matter: `--dry-run=none` is
kubectl's real run, `--dump-sql --force` still executes, `EXPLAIN ANALYZE` runs the statement.
"""

from __future__ import annotations

from agentaudit.enrich.commands.argv import Invocation

# programs whose words are files or processes, never subcommands: `rm help` removes ./help
_OPERAND_PROGRAMS = frozenset(
    {"rm", "rmdir", "unlink", "shred", "mv", "cp", "dd", "find", "truncate", "chmod", "chown",
     "kill", "pkill", "killall", "srm", "trash", "wipe", "ln", "tar", "sh", "bash", "zsh"}
)  # fmt: skip
# programs where -h is help (elsewhere it is often --host or --human-readable)
_SHORT_HELP = frozenset(
    {"kubectl", "oc", "helm", "gh", "glab", "docker", "podman", "nerdctl", "terraform", "tofu",
     "terragrunt", "tflocal", "pulumi", "fly", "flyctl", "doctl", "supabase", "wrangler",
     "vercel", "vc", "netlify", "turso", "railway", "heroku", "gcloud", "az", "git", "cargo",
     "npm", "pnpm", "yarn", "kind", "minikube", "k3d", "vault", "rclone", "restic", "borg",
     "zfs", "systemctl", "crontab", "alembic", "flyway", "liquibase", "prisma", "knex",
     "sequelize", "sequelize-cli", "typeorm", "drizzle-kit"}
)  # fmt: skip
_DRY_RUN = ("--dry-run", "--dryrun", "--dry_run", "--dryRun", "--what-if", "--whatif",
            "--WhatIf", "--preview-only", "--pretend", "--simulate", "--no-act", "--just-print",
            "--recon", "--noop", "--analyze", "--check-only")  # fmt: skip
# `--dry-run=VALUE` values that still submit the request (kubectl's `none`)
_DRY_RUN_SET = frozenset(_DRY_RUN)
_REAL_RUN_VALUES = {"none", "false", "0", "no", "off"}
# short dry-run flags, per program (elsewhere -n is a namespace, a count or a line number)
_SHORT_DRY_RUN = {
    "make": "-n", "gmake": "-n", "rsync": "-n", "zfs": "-n", "zpool": "-n", "borg": "-n",
    "restic": "-n", "rclone": "-n", "apt-get": "-s", "apt": "-s", "ansible": "-C",
    "ansible-playbook": "-C", "git-clean": "-n",
}  # fmt: skip
# subcommands that preview: `terraform plan`, `pulumi preview`, `kubectl diff`, `cdk diff`
_PREVIEW_WORDS = {
    "terraform": {"plan", "validate", "show", "fmt", "graph", "output"},
    "tofu": {"plan", "validate", "show", "fmt", "graph", "output"},
    "terragrunt": {"plan", "validate", "show", "run-all-plan"},
    "tflocal": {"plan", "validate", "show"},
    "pulumi": {"preview", "about", "whoami"},
    "kubectl": {"diff", "explain", "api-resources", "get", "describe", "logs", "top"},
    "oc": {"diff", "explain", "get", "describe", "logs"},
    "helm": {"diff", "template", "lint", "status", "list", "ls", "history", "show", "get"},
    "cdk": {"diff", "synth", "list", "ls"},
    "cdktf": {"diff", "synth", "list"},
    "sst": {"diff"},
}


def harmless_mode(inv: Invocation) -> str | None:
    """`help`, `dry-run`, `preview` or `check` when the form changes nothing; else None."""
    program = inv.program
    # `--version` alone prints a version; `--version 1` / `-version=1` selects one
    version = inv.args[-1:] == ("--version",) and len(inv.words) <= 2
    if program in _OPERAND_PROGRAMS:
        return "help" if inv.has("--help") or version else None
    if inv.has("--help", "-help") or version or (program in _SHORT_HELP and inv.has("-h")):
        return "help"
    if inv.words[:1] == ("help",) or (
        program in ("aws", "awslocal", "gcloud", "az") and inv.words[-1:] == ("help",)
    ):
        return "help"
    if not inv.options:  # no option: only help and preview words can make it harmless
        if inv.words[:1] and inv.words[0] in _PREVIEW_WORDS.get(program, ()):
            return "preview"
        return "preview" if program == "az" and "what-if" in inv.words[:4] else None
    for flag in _DRY_RUN_SET & inv.options:
        value = (inv.value(flag) or "").lower()
        explicit = any(a.startswith(flag + "=") for a in inv.args)
        if not (explicit and value in _REAL_RUN_VALUES):
            return "dry-run"
    short = _SHORT_DRY_RUN.get(program)
    if short and inv.has(short):
        return "dry-run"
    if program in ("ansible", "ansible-playbook") and inv.has("--check"):
        return "check"
    if inv.has("--dump-sql") and not inv.has("--force", "-f"):
        return "dry-run"  # doctrine: prints the SQL; --force executes it
    if program == "alembic" and inv.has("--sql"):
        return "dry-run"  # offline mode: the migration is printed as SQL
    if program in ("python", "manage.py", "django-admin") and inv.has("--plan"):
        return "dry-run"
    if inv.words[:1] and inv.words[0] in _PREVIEW_WORDS.get(program, ()):
        return "preview"
    if program in ("az",) and "what-if" in inv.words[:4]:
        return "preview"
    return None
