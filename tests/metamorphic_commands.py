"""Metamorphic variants of labelled shell commands (issue 15).

For one command line, `keep_variants` returns rewrites that must keep the command's verdict
(global options inserted where each CLI accepts them, `sudo`/`env`/`timeout`/`nohup`/`command`
wrappers, absolute program paths, `--opt=value` vs `--opt value`, quoting changes, the whole
line wrapped in `bash -c`, `sh -lc`, `kubectl exec`, `docker exec` or `ssh`), and
`flip_variants` returns rewrites that must turn a destructive command into a harmless one
(the program's own documented dry-run, plan, what-if or help form). Every variant carries the
name of its transformation and the label it must get.

Standard library only, no agentaudit imports, deterministic: the same command always gives
the same variants in the same order.

    python -m tests.metamorphic_commands [labelled.jsonl]   # counts over the labelled set

Rules the generator keeps (see tests/data/commands/README.md):
* Only a *simple* command (one command, no pipes, lists, redirections, command substitution
  or ANSI-C quoting) is rewritten word by word; every command line can still be wrapped whole.
* A word is re-quoted only when it holds no expansion (`$`, backquote, unquoted glob or `~`),
  so quoting never changes what the shell passes to the program.
* `--opt=value` is split, and `--opt value` joined, only for options listed as taking a
  required value for that program (`--dry-run=server` or `--cascade=...` never are).
* Options that change the target (`--profile`, `--project`, `--context`, `--kubeconfig`,
  `--subscription`, `--kube-context`) are inserted only when absent, and never into a command
  that names a local or test target; remote wrappers (`kubectl exec`, `docker exec`, `ssh`)
  are skipped for such commands as well, since `localhost` inside them is another machine.
* A flip is generated only where the program documents a flag or form that makes the
  command harmless (the table `FLIP_DOCS` names the page for each).
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

KEEP = "keep"  # expected label of a keep variant when the source label is not given
SAFE = "safe"

LABELLED = Path(__file__).resolve().parent / "data" / "commands" / "labelled.jsonl"


@dataclass(frozen=True, slots=True)
class Variant:
    command: str
    transform: str
    expected: str  # "destructive" or "safe" (or "keep": same as the source command)


@dataclass(frozen=True, slots=True)
class Word:
    raw: str  # as written, quotes included
    value: str  # after quote removal
    literal: bool  # no expansion: re-quoting it cannot change the value


# ---------------------------------------------------------------------------------------------
# Splitting a simple command into words (raw text kept)

_SAFE_CHARS = re.compile(r"^[A-Za-z0-9_@%+=:,./-]+$")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# Syntax dash (sh) does not have: these lines are wrapped with bash instead of sh. dash's
# printf also lacks \xHH and %b with bare octal escapes.
_BASH_ONLY = re.compile(
    r"<\(|>\(|<<<|\[\[|\$'|&>|\|&|\bsource\b|\bfunction\b|\\x[0-9A-Fa-f]|%b|\\[0-7]{3}"
)


def split_words(command: str) -> list[Word] | None:
    """Words of a simple command, or None if the line is not one (operators, substitutions)."""
    words: list[Word] = []
    raw: list[str] = []
    val: list[str] = []
    literal = True
    in_word = False
    i, n = 0, len(command)

    def flush() -> None:
        nonlocal raw, val, literal, in_word
        if in_word:
            words.append(Word("".join(raw), "".join(val), literal))
        raw, val, literal, in_word = [], [], True, False

    while i < n:
        ch = command[i]
        if ch in " \t":
            flush()
            i += 1
            continue
        if ch in "|;&<>()\n`":
            return None
        if ch == "#" and not in_word:
            return None
        if ch == "$":
            if i + 1 < n and command[i + 1] in "('":
                return None
            literal = False
        if ch in "*?[]{}~":
            literal = False
        in_word = True
        if ch == "'":
            j = command.find("'", i + 1)
            if j < 0:
                return None
            raw.append(command[i : j + 1])
            val.append(command[i + 1 : j])
            i = j + 1
            continue
        if ch == '"':
            j, buf = i + 1, []
            while j < n and command[j] != '"':
                c = command[j]
                if c == "\\" and j + 1 < n and command[j + 1] in '"\\$`\n':
                    buf.append(command[j + 1])
                    j += 2
                    continue
                if c == "`" or (c == "$" and j + 1 < n and command[j + 1] == "("):
                    return None
                if c == "$":
                    literal = False
                buf.append(c)
                j += 1
            if j >= n:
                return None
            raw.append(command[i : j + 1])
            val.append("".join(buf))
            i = j + 1
            continue
        if ch == "\\":
            if i + 1 >= n:
                return None
            raw.append(command[i : i + 2])
            val.append(command[i + 1])
            i += 2
            continue
        raw.append(ch)
        val.append(ch)
        i += 1
    flush()
    return words or None


def _join(words: list[str]) -> str:
    return " ".join(words)


def _single(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _double(value: str) -> str:
    return '"' + re.sub(r'(["\\$`])', r"\\\1", value) + '"'


def _plain(word: Word) -> bool:
    return word.raw == word.value and bool(_SAFE_CHARS.match(word.raw))


# ---------------------------------------------------------------------------------------------
# Locating the program

WRAPPERS = {"sudo", "env", "timeout", "nohup", "command", "npx", "exec"}
_SUDO_VALUE_OPTS = {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T"}
# Shell builtins with no executable of the same name: no sudo/env/timeout/nohup/path form.
BUILTINS = {
    "history", "cd", "export", "unset", "source", ".", "eval", "alias", "set", "read",
    "exec", "trap", "ulimit", "umask", ":", "declare", "typeset", "local", "shopt", "hash",
    "fc", "unalias", "jobs", "fg", "bg", "wait",
}  # fmt: skip


def _locate(words: list[Word]) -> tuple[int, int, str] | None:
    """(index after leading assignments, index of the program word, program name)."""
    i = 0
    while i < len(words) and _ASSIGNMENT.match(words[i].value) and words[i].raw[0] != "'":
        i += 1
    first = i
    while i < len(words):
        name = words[i].value.rsplit("/", 1)[-1]
        if name == "sudo":
            i += 1
            while i < len(words) and words[i].value.startswith("-"):
                i += 2 if words[i].value in _SUDO_VALUE_OPTS else 1
            while i < len(words) and _ASSIGNMENT.match(words[i].value):
                i += 1
        elif name == "env":
            i += 1
            while i < len(words) and (
                words[i].value.startswith("-") or _ASSIGNMENT.match(words[i].value)
            ):
                i += 1
        elif name == "timeout":
            i += 1
            while i < len(words) and words[i].value.startswith("-"):
                i += 1
            i += 1  # the duration
        elif name in ("nohup", "command", "exec"):
            i += 1
        elif name == "npx":
            i += 1
            while i < len(words) and words[i].value.startswith("-"):
                i += 1
        else:
            if (
                words[i].value in ("python", "python3")
                and i + 1 < len(words)
                and words[i + 1].value.endswith("manage.py")
            ):
                return first, i + 1, "manage.py"
            if words[i].value == "php" and i + 1 < len(words):
                nxt = words[i + 1].value
                if nxt in ("artisan", "bin/console"):
                    return first, i + 1, nxt.rsplit("/", 1)[-1]
            return first, i, name
    return None


# ---------------------------------------------------------------------------------------------
# Per-program knowledge

# Options a CLI accepts before its subcommand that take a value (as a separate word unless
# written --opt=value): needed to find the subcommand.
GLOBAL_VALUE_OPTS: dict[str, set[str]] = {
    "aws": {"--profile", "--region", "--output", "--endpoint-url", "--query", "--color",
            "--ca-bundle", "--cli-read-timeout", "--cli-connect-timeout", "--cli-binary-format"},
    "gcloud": {"--project", "--account", "--verbosity", "--format", "--configuration",
               "--impersonate-service-account", "--billing-project"},
    "kubectl": {"--context", "-n", "--namespace", "--kubeconfig", "--cluster", "--user", "-s",
                "--server", "--request-timeout", "--as", "--token", "-v"},
    "helm": {"--kube-context", "-n", "--namespace", "--kubeconfig", "--registry-config",
             "--repository-config", "--repository-cache"},
    "git": {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env"},
    "docker": {"-H", "--host", "--context", "-c", "--config", "-l", "--log-level"},
    "compose": {"-f", "--file", "-p", "--project-name", "--profile", "--env-file",
                "--project-directory", "--ansi", "--progress", "--parallel"},
    "doctl": {"--context", "-t", "--access-token", "-o", "--output", "-c", "--config",
              "-u", "--api-url"},
    "pulumi": {"-C", "--cwd", "--color", "--profiling", "--tracing"},
    "bq": {"--project_id", "--location", "--format", "--dataset_id", "--api"},
    "gsutil": {"-o", "-h", "-u"},
    "az": set(),
    "fly": {"-t", "--access-token"},
    "supabase": {"--workdir", "--profile", "-o", "--output", "--network-id", "--dns-resolver"},
}  # fmt: skip
GLOBAL_VALUE_OPTS["flyctl"] = GLOBAL_VALUE_OPTS["fly"]

# Long options that take a required value, per program: only these are split or joined.
VALUE_OPTS: dict[str, set[str]] = {
    "aws": {"--profile", "--region", "--output", "--endpoint-url", "--query", "--bucket",
            "--db-instance-identifier", "--table-name", "--key-id", "--secret-id", "--cluster",
            "--service", "--desired-count", "--log-group-name", "--retention-in-days", "--name",
            "--backup-retention-period", "--auto-scaling-group-name", "--pending-window-in-days",
            "--document-name", "--duration-seconds", "--min-size", "--max-size",
            "--desired-capacity", "--detector-id", "--log-group-name-prefix", "--max-results"},
    "gcloud": {"--project", "--zone", "--region", "--account", "--verbosity", "--format",
               "--location", "--key", "--keyring", "--filter", "--num-nodes", "--node-pool",
               "--command", "--retention-days", "--backup-start-time", "--organization",
               "--soft-delete-duration"},
    "kubectl": {"--context", "--namespace", "--kubeconfig", "--request-timeout", "--replicas",
                "--selector", "--container", "--output"},
    "helm": {"--kube-context", "--namespace", "--kubeconfig", "--timeout"},
    "az": {"--name", "--resource-group", "--subscription", "--output", "--vault-name",
           "--server", "--retention-days", "--account-name", "--template-file", "--mode",
           "--command-id", "--query", "--resource", "--delete-retention-days",
           "--connection-string", "--auth-mode"},
    "docker": {"--context", "--log-level"},
    "doctl": {"--context", "--output", "--tag-name"},
    "bq": {"--project_id", "--location", "--format"},
    "fly": {"--app", "--config", "--region", "--command"},
    "heroku": {"--app"},
    "pulumi": {"--cwd", "--stack"},
    "wrangler": {"--command", "--file"},
    "gh": {"--method", "--jq", "--hostname"},
    "mongorestore": {"--uri"},
    "mongosh": {"--eval"},
    "knex": {"--env"},
    "sequelize-cli": {"--env"},
    "supabase": {"--workdir"},
}  # fmt: skip
VALUE_OPTS["flyctl"] = VALUE_OPTS["fly"]

# Global options inserted after the program name: (option words, changes the target?).
GLOBAL_INSERTS: dict[str, list[tuple[tuple[str, ...], bool]]] = {
    "aws": [(("--output", "json"), False), (("--region", "us-east-1"), False),
            (("--profile", "ops-admin"), True), (("--no-cli-pager",), False)],
    "gcloud": [(("--quiet",), False), (("--verbosity", "error"), False),
               (("--project", "acme-ops-7731"), True)],
    "kubectl": [(("--context", "ops-eu"), True), (("-n", "ops"), False),
                (("--kubeconfig", '"$HOME/.kube/config"'), True),
                (("--request-timeout=30s",), False)],
    "helm": [(("--kube-context", "ops-eu"), True), (("--namespace", "ops"), False),
             (("--debug",), False)],
    "git": [(("--no-pager",), False), (("-c", "color.ui=never"), False)],
    "docker": [(("--log-level", "warn"), False)],
    "doctl": [(("--output", "json"), False), (("--context", "ops"), True)],
    "bq": [(("--format=prettyjson",), False), (("--headless",), False)],
    "pulumi": [(("--non-interactive",), False), (("--color", "never"), False)],
    "gsutil": [(("-q",), False)],
    "supabase": [(("--debug",), False)],
    "fly": [(("--verbose",), False)],
    "flyctl": [(("--verbose",), False)],
    "terraform": [(("-chdir=.",), False)],
    "tofu": [(("-chdir=.",), False)],
}  # fmt: skip
# Options appended at the end (before `--`): where the CLI documents them after the command.
TRAILING_INSERTS: dict[str, list[tuple[tuple[str, ...], bool]]] = {
    "az": [(("--subscription", "3f2b6c1e-2222-4a2b-9c3d-0e1f2a3b4c5d"), True),
           (("--output", "none"), False), (("--only-show-errors",), False)],
    "aws": [(("--output", "json"), False), (("--region", "us-east-1"), False)],
    "gcloud": [(("--quiet",), False), (("--verbosity=error",), False)],
    "kubectl": [(("--request-timeout=30s",), False)],
}  # fmt: skip
# Spellings of the same option, to avoid inserting one that is already there.
ALIASES = {
    "-n": {"-n", "--namespace"}, "--namespace": {"-n", "--namespace"},
    "--quiet": {"-q", "--quiet"}, "--output": {"-o", "--output"},
    "--verbosity": {"--verbosity"}, "-c": {"-c"}, "-chdir=.": {"-chdir"},
    "--request-timeout=30s": {"--request-timeout"}, "--verbosity=error": {"--verbosity"},
    "--format=prettyjson": {"--format"},
}  # fmt: skip

ABSOLUTE = {
    "aws": "/usr/local/bin/aws", "kubectl": "/usr/local/bin/kubectl",
    "helm": "/usr/local/bin/helm", "terraform": "/usr/local/bin/terraform",
    "tofu": "/usr/local/bin/tofu", "doctl": "/usr/local/bin/doctl",
    "fly": "/home/dev/.fly/bin/fly", "flyctl": "/home/dev/.fly/bin/flyctl",
    "gcloud": "/usr/lib/google-cloud-sdk/bin/gcloud", "gsutil": "/usr/lib/google-cloud-sdk/bin/gsutil",
    "bq": "/usr/lib/google-cloud-sdk/bin/bq", "az": "/usr/bin/az", "gh": "/usr/bin/gh",
    "supabase": "/usr/local/bin/supabase", "turso": "/home/dev/.turso/turso",
    "pulumi": "/home/dev/.pulumi/bin/pulumi", "heroku": "/usr/local/bin/heroku",
    "vercel": "/usr/local/bin/vercel", "wrangler": "/usr/local/bin/wrangler",
    "deno": "/home/dev/.deno/bin/deno", "node": "/usr/local/bin/node",
}  # fmt: skip

LOCAL_MARKERS = re.compile(
    r"\blocalhost\b|127\.0\.0\.1|\[::1\]|--local\b|\bkind-|\bkind delete\b|\bminikube\b|\bk3d\b"
    r"|docker-desktop|\bawslocal\b|\btflocal\b|:4566\b|UseDevelopmentStorage|_test\b|\btest_"
    r"|\b(RAILS_ENV|MIX_ENV|NODE_ENV|APP_ENV)=test|--env[= ]test|settings\.test|\.test\.ya?ml"
    r"|\bsupabase stop\b"
)

REMOTE_WRAPPERS = (
    ("kubectl_exec", "kubectl exec -it api-7d4b9c6f5-x2kqp -n prod -- {shell} -c {cmd}"),
    ("docker_exec", "docker exec -it app-web-1 {shell} -c {cmd}"),
    ("ssh", "ssh deploy@10.0.4.12 {cmd}"),
)

# Documentation of every flip form the generator produces.
FLIP_DOCS = {
    "kubectl_dry_run": "https://kubernetes.io/docs/reference/kubectl/generated/kubectl_delete/",
    "helm_dry_run": "https://helm.sh/docs/helm/helm_uninstall/",
    "terraform_plan_destroy": "https://developer.hashicorp.com/terraform/cli/commands/plan",
    "terraform_help": "https://developer.hashicorp.com/terraform/cli/commands",
    "pulumi_preview_only": "https://www.pulumi.com/docs/iac/cli/commands/pulumi_destroy/",
    "pulumi_preview": "https://www.pulumi.com/docs/iac/cli/commands/pulumi_preview/",
    "aws_help": "https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-help.html",
    "aws_s3_dryrun": "https://docs.aws.amazon.com/cli/latest/reference/s3/rm.html",
    "aws_ec2_dry_run": "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/CommonParameters.html",
    "gcloud_help": "https://cloud.google.com/sdk/gcloud/reference",
    "gsutil_help": "https://cloud.google.com/storage/docs/gsutil/commands/help",
    "az_help": "https://learn.microsoft.com/en-us/cli/azure/use-azure-cli-successfully-help",
    "az_what_if": "https://learn.microsoft.com/en-us/cli/azure/deployment/group#az-deployment-group-create",
    "git_dry_run": "https://git-scm.com/docs/git-push",
    "git_help": "https://git-scm.com/docs/git-help",
    "rsync_dry_run": "https://download.samba.org/pub/rsync/rsync.1",
    "gnu_help": "https://www.gnu.org/prep/standards/html_node/_002d_002dhelp.html",
    "postgres_help": "https://www.postgresql.org/docs/current/app-psql.html",
    "mysql_help": "https://dev.mysql.com/doc/refman/8.4/en/mysql-command-options.html",
    "mongorestore_dry_run": "https://www.mongodb.com/docs/database-tools/mongorestore/",
    "docker_help": "https://docs.docker.com/reference/cli/docker/",
    "compose_dry_run": "https://docs.docker.com/reference/cli/docker/compose/",
    "cobra_help": "https://cobra.dev/",  # kubectl, helm, gh, doctl, fly, supabase, turso
    "oclif_help": "https://devcenter.heroku.com/articles/heroku-cli-commands",
    "yargs_help": "https://developers.cloudflare.com/workers/wrangler/commands/",
    "vercel_help": "https://vercel.com/docs/cli/global-options#help",
    "prisma_help": "https://www.prisma.io/docs/orm/reference/prisma-cli-reference",
    "knex_help": "https://knexjs.org/guide/migrations.html",
    "sequelize_help": "https://sequelize.org/docs/v6/other-topics/migrations/",
    "typeorm_help": "https://typeorm.io/docs/advanced-topics/using-cli/",
    "alembic_sql": "https://alembic.sqlalchemy.org/en/latest/offline.html",
    "argparse_help": "https://docs.python.org/3/library/argparse.html#help",
    "django_help": "https://docs.djangoproject.com/en/5.1/ref/django-admin/",
    "django_plan": "https://docs.djangoproject.com/en/5.1/ref/django-admin/#cmdoption-migrate-plan",
    "laravel_pretend": "https://laravel.com/docs/11.x/migrations",
    "symfony_help": "https://symfony.com/doc/current/console.html",
    "doctrine_dump_sql": "https://www.doctrine-project.org/projects/doctrine-orm/en/3.3/reference/tools.html",
    "mix_help": "https://hexdocs.pm/mix/Mix.Tasks.Help.html",
    "bq_dry_run": "https://cloud.google.com/bigquery/docs/reference/bq-cli-reference#bq_query",
    "restic_dry_run": "https://restic.readthedocs.io/en/stable/060_forget.html",
    "borg_dry_run": "https://borgbackup.readthedocs.io/en/stable/usage/prune.html",
    "zfs_dry_run": "https://openzfs.github.io/openzfs-docs/man/master/8/zfs-destroy.8.html",
    "ansible_check": "https://docs.ansible.com/ansible/latest/playbook_guide/playbooks_checkmode.html",
    "make_dry_run": "https://www.gnu.org/software/make/manual/html_node/Instead-of-Execution.html",
    "apt_simulate": "https://manpages.debian.org/bookworm/apt/apt-get.8.en.html",
    "supabase_dry_run": "https://supabase.com/docs/reference/cli/supabase-db-push",
    "systemctl_help": "https://www.freedesktop.org/software/systemd/man/latest/systemctl.html",
}

COBRA = {"kubectl", "helm", "gh", "doctl", "fly", "flyctl", "supabase", "turso"}
GNU_HELP = {"rm", "shred", "truncate", "rmdir", "ln", "dd"}
POSTGRES_HELP = {"psql", "dropdb", "pg_restore", "pg_dropcluster"}
KUBECTL_DRY_RUN = {"delete", "scale", "drain", "apply", "replace", "patch", "label", "annotate",
                   "create", "cordon", "taint", "set", "autoscale"}  # fmt: skip
# Compose subcommands that change the stack, for which the global --dry-run is documented.
COMPOSE_DRY_RUN = {"down", "rm", "stop", "kill", "restart", "up", "create", "pull", "push",
                   "build", "cp", "start", "pause", "unpause"}  # fmt: skip
HELM_DRY_RUN = {"uninstall", "delete", "del", "un", "rollback", "upgrade", "install"}
EC2_DRY_RUN = re.compile(
    r"^(terminate|delete|stop|deregister|detach|disassociate|release|revoke|modify)-"
)


def _is_local(command: str) -> bool:
    return bool(LOCAL_MARKERS.search(command))


def _opt_name(value: str) -> str:
    return value.split("=", 1)[0]


def _present(words: list[Word], option: str) -> bool:
    names = ALIASES.get(option, {option})
    return any(_opt_name(w.value) in names for w in words)


def _positional(words: list[Word], start: int, prog: str, count: int = 1) -> list[int]:
    """Indices of the first `count` non-option words after `start` (skipping global options)."""
    value_opts = GLOBAL_VALUE_OPTS.get(prog, set())
    found, i = [], start
    while i < len(words) and len(found) < count:
        v = words[i].value
        if v == "--":
            break
        if v.startswith("-") and len(v) > 1:
            i += 2 if (v in value_opts and "=" not in v) else 1
            continue
        found.append(i)
        i += 1
    return found


def _dashdash(words: list[Word], start: int) -> int:
    for i in range(start, len(words)):
        if words[i].value == "--":
            return i
    return len(words)


# ---------------------------------------------------------------------------------------------
# Keep variants


def _whole_line_wrappers(command: str, expected: str) -> list[Variant]:
    bash_only = bool(_BASH_ONLY.search(command))
    out = [Variant(f"bash -c {_single(command)}", "bash_c", expected)]
    shell = "bash" if bash_only else "sh"
    out.append(Variant(f"{shell} -lc {_double(command)}", f"{shell}_lc", expected))
    if not _is_local(command):
        for name, template in REMOTE_WRAPPERS:
            cmd = _single(command)
            out.append(Variant(template.format(shell=shell, cmd=cmd), name, expected))
    return out


def _prefix_wrappers(
    words: list[Word], first: int, prog_i: int, prog: str, expected: str
) -> list[Variant]:
    if prog in BUILTINS or (prog == "kill" and any("%" in w.value for w in words)):
        return [
            Variant(
                _join(
                    [w.raw for w in words[:first]] + ["command"] + [w.raw for w in words[first:]]
                ),
                "command",
                expected,
            )
        ]
    assigns = [w.raw for w in words[:first]]
    rest = [w.raw for w in words[first:]]
    if words[first].value in ("command", "exec"):
        return []  # builtins: sudo, env, timeout and nohup cannot run them
    out = []
    if words[first].value != "sudo":
        out.append(Variant(_join(["sudo", *assigns, *rest]), "sudo", expected))
    out.append(Variant(_join(["env", "TZ=UTC", *assigns, *rest]), "env", expected))
    out.append(Variant(_join([*assigns, "timeout", "60", *rest]), "timeout", expected))
    out.append(Variant(_join([*assigns, "nohup", *rest]), "nohup", expected))
    out.append(Variant(_join([*assigns, "command", *rest]), "command", expected))
    return out


def _absolute_path(words: list[Word], prog_i: int, prog: str, expected: str) -> list[Variant]:
    w = words[prog_i]
    if (
        prog in BUILTINS
        or "/" in w.value
        or not _plain(w)
        or prog in ("manage.py", "artisan", "console")
    ):
        return []
    if prog_i > 0 and words[prog_i - 1].value == "npx":
        return []
    path = ABSOLUTE.get(prog, f"/usr/bin/{prog}")
    new = [x.raw for x in words]
    new[prog_i] = path
    return [Variant(_join(new), "absolute_path", expected)]


def _global_options(
    command: str, words: list[Word], prog_i: int, prog: str, expected: str
) -> list[Variant]:
    local = _is_local(command)
    out = []
    raws = [w.raw for w in words]
    end = _dashdash(words, prog_i + 1)
    for table, position in ((GLOBAL_INSERTS, "after_program"), (TRAILING_INSERTS, "end")):
        for option, changes_target in table.get(prog, []):
            if changes_target and local:
                continue
            if _present(words, option[0]):
                continue
            at = prog_i + 1 if position == "after_program" else end
            if (
                prog in ("kubectl", "helm")
                and position == "after_program"
                and prog_i + 1 < len(words)
            ):
                pass  # cobra: persistent flags are accepted before the subcommand
            new = raws[:at] + list(option) + raws[at:]
            name = "global_" + option[0].lstrip("-").split("=", 1)[0].replace("-", "_")
            out.append(Variant(_join(new), f"{name}_{position}", expected))
    return out


def _opt_forms(words: list[Word], prog_i: int, prog: str, expected: str) -> list[Variant]:
    opts = VALUE_OPTS.get(prog, set())
    if not opts:
        return []
    raws = [w.raw for w in words]
    end = _dashdash(words, prog_i + 1)
    out = []
    split, joined = list(raws), list(raws)
    changed_split = changed_join = False
    i = prog_i + 1
    result_join: list[str] = []
    while i < len(raws):
        w = words[i]
        if i < end and "=" in w.raw:
            name, _, rest = w.raw.partition("=")
            if name in opts and rest:
                result_join.append(w.raw)
                i += 1
                continue
        if i < end and w.raw in opts and i + 1 < end and not words[i + 1].value.startswith("-"):
            result_join.append(f"{w.raw}={raws[i + 1]}")
            changed_join = True
            i += 2
            continue
        result_join.append(w.raw)
        i += 1
    joined = raws[: prog_i + 1] + result_join
    split_out: list[str] = raws[: prog_i + 1]
    for i in range(prog_i + 1, len(raws)):
        w = words[i]
        if i < end and "=" in w.raw:
            name, _, rest = w.raw.partition("=")
            if name in opts and rest:
                split_out += [name, rest]
                changed_split = True
                continue
        split_out.append(w.raw)
    split = split_out
    if changed_split:
        out.append(Variant(_join(split), "opt_equals_to_space", expected))
    if changed_join:
        out.append(Variant(_join(joined), "opt_space_to_equals", expected))
    return out


def _requote(words: list[Word], first: int, prog_i: int, expected: str) -> list[Variant]:
    out = []
    for name, quote in (("quote_args_single", _single), ("quote_args_double", _double)):
        new, changed = [], False
        for i, w in enumerate(words):
            if (
                i > prog_i
                and w.literal
                and "\n" not in w.value
                and w.value
                and not (quote is _double and "!" in w.value)
            ):
                q = quote(w.value)
                changed |= q != w.raw
                new.append(q)
            else:
                new.append(w.raw)
        if changed:
            out.append(Variant(_join(new), name, expected))
    w = words[prog_i]
    if w.literal and _plain(w):
        new = [x.raw for x in words]
        new[prog_i] = _single(w.value)
        out.append(Variant(_join(new), "quote_program", expected))
    return out


def keep_variants(command: str, expected: str = KEEP) -> list[Variant]:
    """Rewrites of `command` that must get the same verdict (`expected`, the source's label)."""
    out: list[Variant] = []
    words = split_words(command)
    located = _locate(words) if words else None
    if words and located:
        first, prog_i, prog = located
        out += _global_options(command, words, prog_i, prog, expected)
        out += _opt_forms(words, prog_i, prog, expected)
        out += _prefix_wrappers(words, first, prog_i, prog, expected)
        out += _absolute_path(words, prog_i, prog, expected)
        out += _requote(words, first, prog_i, expected)
    out += _whole_line_wrappers(command, expected)
    seen, unique = {command}, []
    for v in out:
        if v.command not in seen:
            seen.add(v.command)
            unique.append(v)
    return unique


# ---------------------------------------------------------------------------------------------
# Flip variants


def _insert(words: list[Word], at: int, new: list[str]) -> str:
    raws = [w.raw for w in words]
    return _join(raws[:at] + new + raws[at:])


def _replace(words: list[Word], at: int, new: list[str], drop: int = 1) -> str:
    raws = [w.raw for w in words]
    return _join(raws[:at] + new + raws[at + drop :])


def _flips(words: list[Word], prog_i: int, prog: str) -> list[tuple[str, str]]:
    values = [w.value for w in words]
    raws = [w.raw for w in words]
    end = _dashdash(words, prog_i + 1)
    out: list[tuple[str, str]] = []
    if prog == "kubectl":
        sub = _positional(words, prog_i + 1, prog)
        if sub:
            s = sub[0]
            if values[s] in KUBECTL_DRY_RUN:
                dry = [i for i in range(prog_i, end) if _opt_name(values[i]) == "--dry-run"]
                if dry:
                    out.append(("kubectl_dry_run", _replace(words, dry[0], ["--dry-run=server"])))
                else:
                    out.append(("kubectl_dry_run", _insert(words, end, ["--dry-run=server"])))
            out.append(("cobra_help", _insert(words, s + 1, ["--help"])))
    elif prog == "helm":
        sub = _positional(words, prog_i + 1, prog)
        if sub:
            s = sub[0]
            if values[s] in HELM_DRY_RUN and "--dry-run" not in values:
                out.append(("helm_dry_run", _insert(words, end, ["--dry-run"])))
            out.append(("cobra_help", _insert(words, s + 1, ["--help"])))
    elif prog in ("terraform", "tofu"):
        sub = _positional(words, prog_i + 1, prog)
        if sub:
            s = sub[0]
            keep = [
                r
                for i, r in enumerate(raws)
                if i > s and values[i] not in ("-auto-approve", "--auto-approve")
            ]
            head = raws[:s]
            if values[s] == "destroy":
                out.append(("terraform_plan_destroy", _join([*head, "plan", "-destroy", *keep])))
            elif values[s] == "apply" and any(
                v == "-destroy" or v.startswith("-replace=") for v in values[s + 1 :]
            ):
                positional = [v for v in values[s + 1 :] if not v.startswith("-")]
                if not positional:  # no saved plan file
                    out.append(("terraform_plan_destroy", _join([*head, "plan", *keep])))
            depth = 2 if values[s] in ("workspace", "state", "providers") and len(sub) else 1
            at = s + 1
            if depth == 2 and at < len(words) and not values[at].startswith("-"):
                at += 1
            out.append(("terraform_help", _insert(words, at, ["-help"])))
    elif prog == "pulumi":
        sub = _positional(words, prog_i + 1, prog)
        if sub:
            s = sub[0]
            if values[s] == "destroy" and "--preview-only" not in values:
                keep = [
                    r
                    for i, r in enumerate(raws)
                    if i > s and values[i] not in ("--yes", "-y", "--skip-preview")
                ]
                out.append(
                    ("pulumi_preview_only", _join(raws[: s + 1] + keep + ["--preview-only"]))
                )
            elif values[s] in ("up", "update"):
                keep = [
                    r
                    for i, r in enumerate(raws)
                    if i > s and values[i] not in ("--yes", "-y", "--skip-preview")
                ]
                out.append(("pulumi_preview", _join([*raws[:s], "preview", *keep])))
    elif prog == "aws":
        sub = _positional(words, prog_i + 1, prog, 2)
        if len(sub) == 2:
            svc, op = sub
            out.append(("aws_help", _join([*raws[: op + 1], "help"])))
            s3_delete = values[op] == "rm" or (
                values[op] in ("mv", "sync", "cp") and "--delete" in values
            )
            if values[svc] == "s3" and s3_delete and "--dryrun" not in values:
                out.append(("aws_s3_dryrun", _join([*raws, "--dryrun"])))
            if values[svc] == "ec2" and EC2_DRY_RUN.match(values[op]) and "--dry-run" not in values:
                out.append(("aws_ec2_dry_run", _join([*raws, "--dry-run"])))
    elif prog == "gcloud":
        out.append(("gcloud_help", _insert(words, end, ["--help"])))
    elif prog == "gsutil":
        sub = _positional(words, prog_i + 1, prog)
        if sub:
            out.append(("gsutil_help", _join([*raws[: prog_i + 1], "help", raws[sub[0]]])))
    elif prog == "az":
        if (
            values[prog_i + 1 : prog_i + 3] == ["deployment", "group"]
            and "create" in values
            and "--what-if" not in values
        ):
            out.append(("az_what_if", _insert(words, end, ["--what-if"])))
        out.append(("az_help", _insert(words, end, ["--help"])))
    elif prog == "git":
        sub = _positional(words, prog_i + 1, prog)
        if sub:
            s = sub[0]
            if values[s] in ("push", "clean", "rm") and not ({"--dry-run", "-n"} & set(values)):
                out.append(("git_dry_run", _insert(words, s + 1, ["--dry-run"])))
            if values[s] not in ("help",):
                out.append(("git_help", _join([*raws[:s], "help", raws[s]])))
    elif prog == "rsync":
        if any(v.startswith("--delete") for v in values) and not (
            {"--dry-run", "-n"} & set(values)
        ):
            out.append(("rsync_dry_run", _insert(words, prog_i + 1, ["--dry-run"])))
    elif prog in GNU_HELP:
        out.append(("gnu_help", _insert(words, prog_i + 1, ["--help"])))
    elif prog in POSTGRES_HELP:
        out.append(("postgres_help", _insert(words, prog_i + 1, ["--help"])))
    elif prog in ("mysql", "mariadb"):
        out.append(("mysql_help", _insert(words, prog_i + 1, ["--help"])))
    elif prog == "mongorestore":
        if "--dryRun" not in values:
            out.append(("mongorestore_dry_run", _insert(words, prog_i + 1, ["--dryRun"])))
    elif prog in ("docker", "podman"):
        sub = _positional(words, prog_i + 1, "docker")
        if sub:
            s = sub[0]
            if values[s] == "compose":
                csub = _positional(words, s + 1, "compose")
                if (
                    "--dry-run" not in values
                    and prog == "docker"
                    and csub
                    and values[csub[0]] in COMPOSE_DRY_RUN
                ):
                    out.append(("compose_dry_run", _insert(words, s + 1, ["--dry-run"])))
                if csub:
                    out.append(("docker_help", _insert(words, csub[0] + 1, ["--help"])))
            else:
                groups = {
                    "system",
                    "volume",
                    "image",
                    "container",
                    "builder",
                    "buildx",
                    "network",
                    "context",
                }
                at = s + 1
                if values[s] in groups and at < len(words) and not values[at].startswith("-"):
                    at += 1
                out.append(("docker_help", _insert(words, at, ["--help"])))
    elif prog in COBRA:
        sub = _positional(words, prog_i + 1, prog)
        if sub:
            out.append(("cobra_help", _insert(words, sub[0] + 1, ["--help"])))
            if (
                prog == "supabase"
                and values[sub[0]] == "db"
                and "push" in values
                and "--dry-run" not in values
            ):
                out.append(("supabase_dry_run", _insert(words, end, ["--dry-run"])))
    elif prog == "heroku":
        if prog_i + 1 < len(words) and values[prog_i + 1] != "run":
            out.append(("oclif_help", _insert(words, prog_i + 2, ["--help"])))
    elif prog == "wrangler":
        sub = _positional(words, prog_i + 1, prog, 2)
        if sub:
            out.append(("yargs_help", _insert(words, sub[-1] + 1, ["--help"])))
    elif prog == "vercel":
        out.append(("vercel_help", _insert(words, prog_i + 1, ["--help"])))
    elif prog == "prisma":
        sub = _positional(words, prog_i + 1, prog, 2)
        if sub:
            out.append(("prisma_help", _insert(words, sub[-1] + 1, ["--help"])))
    elif prog in ("knex", "sequelize-cli", "sequelize", "typeorm"):
        sub = _positional(words, prog_i + 1, prog)
        name = {"knex": "knex_help", "typeorm": "typeorm_help"}.get(prog, "sequelize_help")
        if sub:
            out.append((name, _insert(words, sub[0] + 1, ["--help"])))
    elif prog == "alembic":
        sub = _positional(words, prog_i + 1, prog)
        value_opts = {"-c", "--config", "-n", "--name", "-x"}
        i, s = prog_i + 1, None
        while i < len(words):
            if values[i] in value_opts:
                i += 2
                continue
            if not values[i].startswith("-"):
                s = i
                break
            i += 1
        if s is not None:
            target = s + 1 if s + 1 < len(words) and not values[s + 1].startswith("-") else None
            if values[s] == "upgrade" and "--sql" not in values:
                out.append(("alembic_sql", _join([*raws, "--sql"])))
            elif values[s] == "downgrade" and "--sql" not in values and target is not None:
                # offline downgrades need a start:end range
                rev = values[target]
                if ":" not in rev and not rev.startswith(("-", "+")) and words[target].literal:
                    new = _replace(words, target, [f"head:{rev}"])
                    out.append(("alembic_sql", new + " --sql"))
            out.append(("argparse_help", _insert(words, s + 1, ["--help"])))
    elif prog == "manage.py":
        sub = _positional(words, prog_i + 1, prog)
        if sub:
            s = sub[0]
            if values[s] == "migrate" and "--plan" not in values:
                out.append(("django_plan", _join([*raws, "--plan"])))
            out.append(("django_help", _join([*raws[:s], "help", raws[s]])))
            out.append(("argparse_help", _insert(words, s + 1, ["--help"])))
    elif prog in ("artisan", "console"):
        sub = _positional(words, prog_i + 1, prog)
        if sub:
            s = sub[0]
            if (
                prog == "artisan"
                and values[s] in ("migrate", "migrate:rollback", "migrate:reset")
                and "--pretend" not in values
            ):
                out.append(("laravel_pretend", _join([*raws, "--pretend"])))
            if (
                prog == "console"
                and values[s] in ("doctrine:schema:drop", "doctrine:schema:update")
                and "--force" in values
            ):
                out.append(
                    ("doctrine_dump_sql", _replace(words, values.index("--force"), ["--dump-sql"]))
                )
            out.append(("symfony_help", _insert(words, s + 1, ["--help"])))
    elif prog == "mix":
        sub = _positional(words, prog_i + 1, prog)
        if sub and values[sub[0]] != "help":
            out.append(("mix_help", _join([*raws[: sub[0]], "help", raws[sub[0]]])))
    elif prog == "bq":
        sub = _positional(words, prog_i + 1, prog)
        if sub and values[sub[0]] == "query" and "--dry_run" not in values:
            out.append(("bq_dry_run", _insert(words, sub[0] + 1, ["--dry_run"])))
    elif prog == "restic":
        if ("forget" in values or "prune" in values) and not ({"--dry-run", "-n"} & set(values)):
            out.append(("restic_dry_run", _join([*raws, "--dry-run"])))
    elif prog == "borg":
        if ("prune" in values or "delete" in values) and not ({"--dry-run", "-n"} & set(values)):
            sub = "prune" if "prune" in values else "delete"
            out.append(("borg_dry_run", _insert(words, values.index(sub) + 1, ["--dry-run"])))
    elif prog == "zfs":
        if prog_i + 1 < len(words) and values[prog_i + 1] == "destroy":
            out.append(("zfs_dry_run", _insert(words, prog_i + 2, ["-nv"])))
    elif prog in ("ansible", "ansible-playbook"):
        if "--check" not in values and "-C" not in values:
            out.append(("ansible_check", _join([*raws, "--check"])))
    elif prog == "make":
        out.append(("make_dry_run", _insert(words, prog_i + 1, ["-n"])))
    elif prog in ("apt-get", "apt"):
        out.append(("apt_simulate", _insert(words, prog_i + 1, ["-s"])))
    elif prog == "systemctl":
        out.append(("systemctl_help", _insert(words, prog_i + 1, ["--help"])))
    return out


def flip_variants(command: str) -> list[Variant]:
    """Rewrites of a destructive `command` that its program documents as harmless."""
    words = split_words(command)
    located = _locate(words) if words else None
    if not words or not located:
        return []
    _first, prog_i, prog = located
    seen, out = {command}, []
    for transform, new in _flips(words, prog_i, prog):
        if new not in seen:
            seen.add(new)
            out.append(Variant(new, transform, SAFE))
    return out


# ---------------------------------------------------------------------------------------------
# Local-target variants: the policy (local and test targets are low, not medium)

LOCAL_CONTEXT = "kind-dev"
LOCAL_HOST = "127.0.0.1"
LOCALSTACK = "--endpoint-url=http://localhost:4566"
_ENV_TEST = {"RAILS_ENV": "test", "MIX_ENV": "test", "NODE_ENV": "test", "APP_ENV": "testing"}
_PROD_ENVS = {"production", "prod", "staging"}
_DB_URL = re.compile(r"^((?:postgres(?:ql)?|mysql|mariadb|redis)://(?:[^@/\s]*@)?)([^:/?\s]+)")
DB_HOST_PROGRAMS = {"psql", "pg_restore", "pg_dump", "dropdb", "mysql", "mariadb", "redis-cli",
                    "clickhouse-client"}  # fmt: skip


def _local_rewrites(words: list[Word], first: int, prog_i: int, prog: str) -> list[tuple[str, str]]:
    values = [w.value for w in words]
    raws = [w.raw for w in words]
    end = _dashdash(words, prog_i + 1)
    out: list[tuple[str, str]] = []

    def option_value(names: set[str]) -> tuple[int, bool] | None:
        """(index of the value, written as --opt=value) of the first of `names` before `--`."""
        for i in range(prog_i + 1, end):
            name = _opt_name(values[i])
            if name in names:
                if "=" in values[i]:
                    return i, True
                if i + 1 < end:
                    return i + 1, False
        return None

    # environment names in leading assignments or rake-style arguments
    new = list(raws)
    for i, w in enumerate(words):
        name, eq, value = w.value.partition("=")
        if eq and name in _ENV_TEST and value in _PROD_ENVS and w.literal:
            new[i] = f"{name}={_ENV_TEST[name]}"
        elif eq and name == "DATABASE_URL" and i < first and _DB_URL.match(value):
            new[i] = "DATABASE_URL=" + _DB_URL.sub(lambda m: m.group(1) + "localhost", value)
    if new != raws:
        out.append(("local_env", _join(new)))
    if prog in ("kubectl", "helm") and option_value({"--kubeconfig"}) is None:
        names = {"--context"} if prog == "kubectl" else {"--kube-context"}
        found = option_value(names)
        if found is None:
            opt = "--context" if prog == "kubectl" else "--kube-context"
            out.append(("local_kube_context", _insert(words, prog_i + 1, [opt, LOCAL_CONTEXT])))
        else:
            i, joined = found
            text = f"{_opt_name(values[i])}={LOCAL_CONTEXT}" if joined else LOCAL_CONTEXT
            out.append(("local_kube_context", _replace(words, i, [text])))
    elif prog == "aws":
        found = option_value({"--endpoint-url"})
        if found is None:
            out.append(("local_localstack", _insert(words, prog_i + 1, [LOCALSTACK])))
        else:
            i, joined = found
            start = i if joined else i - 1
            out.append(
                ("local_localstack", _replace(words, start, [LOCALSTACK], 1 if joined else 2))
            )
    elif prog in DB_HOST_PROGRAMS:
        found = option_value({"-h", "--host"})
        if found is not None:
            i, joined = found
            text = f"{_opt_name(values[i])}={LOCAL_HOST}" if joined else LOCAL_HOST
            out.append(("local_db_host", _replace(words, i, [text])))
    elif prog == "wrangler" and "--remote" in values:
        out.append(("local_flag", _replace(words, values.index("--remote"), ["--local"])))
    elif prog == "supabase" and "--linked" in values:
        out.append(("local_flag", _replace(words, values.index("--linked"), ["--local"])))
    elif prog == "terraform" and words[prog_i].value == "terraform" and _plain(words[prog_i]):
        out.append(("local_tflocal", _replace(words, prog_i, ["tflocal"])))
    # --env / --settings naming a production environment
    for i in range(prog_i + 1, end):
        v = values[i]
        if prog in ("knex", "sequelize-cli", "sequelize") and v == "--env" and i + 1 < end:
            if values[i + 1] in _PROD_ENVS:
                out.append(("local_env", _replace(words, i + 1, ["test"])))
        elif prog == "artisan" and v.startswith("--env=") and v[6:] in _PROD_ENVS:
            out.append(("local_env", _replace(words, i, ["--env=testing"])))
        elif (
            prog == "manage.py"
            and v.startswith("--settings=")
            and v.rsplit(".", 1)[-1] in _PROD_ENVS
        ):
            out.append(("local_env", _replace(words, i, [v.rsplit(".", 1)[0] + ".test"])))
    return out


def local_target_variants(command: str) -> list[Variant]:
    """The command pointed at a local or test target instead (the issue's policy: low, safe).

    Kubernetes contexts become `kind-dev`, AWS calls go to LocalStack, database hosts to
    127.0.0.1, `--remote`/`--linked` become `--local`, production environment names become the
    test ones, `terraform` becomes `tflocal`. Not documented harmless like the flips: a policy.
    """
    words = split_words(command)
    located = _locate(words) if words else None
    if not words or not located:
        return []
    first, prog_i, prog = located
    seen, out = {command}, []
    for transform, new in _local_rewrites(words, first, prog_i, prog):
        if new not in seen:
            seen.add(new)
            out.append(Variant(new, transform, SAFE))
    return out


# ---------------------------------------------------------------------------------------------


def load_labelled(path: str | Path = LABELLED) -> list[dict]:
    return [
        json.loads(line)
        for line in Path(path).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    rows = load_labelled(argv[0] if argv else LABELLED)
    per_class: dict[str, Counter] = {}
    transforms: Counter = Counter()
    for row in rows:
        c = per_class.setdefault(row["class"], Counter())
        c["rows_" + row["expected"]] += 1
        keep = keep_variants(row["command"], row["expected"])
        c["keep_" + row["expected"]] += len(keep)
        transforms.update("keep:" + v.transform for v in keep)
        if row["expected"] == "destructive":
            flips = flip_variants(row["command"])
            c["flip"] += len(flips)
            c["rows_with_flip"] += bool(flips)
            transforms.update("flip:" + v.transform for v in flips)
            local = local_target_variants(row["command"])
            c["local"] += len(local)
            transforms.update("local:" + v.transform for v in local)
    header = (
        f"{'class':36} {'rows D/S':>9} {'keep D':>7} {'keep S':>7} {'flip':>5} "
        f"{'D rows w/ flip':>15} {'local':>6}"
    )
    print(header)
    total: Counter = Counter()
    for name in [*sorted(per_class), "total"]:
        c = total if name == "total" else per_class[name]
        if name != "total":
            total.update(c)
        print(f"{name:36} {c['rows_destructive']:>4}/{c['rows_safe']:<4} {c['keep_destructive']:>7} "
              f"{c['keep_safe']:>7} {c['flip']:>5} {c['rows_with_flip']:>15} {c['local']:>6}")  # fmt: skip
    keep = total["keep_destructive"] + total["keep_safe"]
    print(
        f"\nkeep variants: {keep}, flip variants: {total['flip']}, local-target variants: {total['local']}"
    )
    print("\nby transformation:")
    for name, n in sorted(transforms.items()):
        print(f"  {name:40} {n}")


if __name__ == "__main__":
    main()
