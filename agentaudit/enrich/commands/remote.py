"""Commands run somewhere else: the inner command is what runs, the outer one says where.

`kubectl exec POD -- CMD`, `docker exec CTR CMD`, `docker compose exec|run SVC CMD`,
`podman exec`, `gcloud compute ssh --command CMD`, `fly ssh console -C CMD`, `heroku run CMD`,
`railway run CMD`, `az vm run-command invoke --scripts CMD`, `aws ssm send-command
--parameters commands=...`, `lxc|incus exec`, `vagrant ssh -c`. Each returns the inner
command marked with where it runs (`via`: the outer program, its context, namespace or app),
so the environment of the target comes from the outer command.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

from agentaudit.enrich.commands.argv import invocation
from agentaudit.enrich.commands.parse import SimpleCommand

_CONTAINER_CLIS = {"docker", "podman", "nerdctl"}
_COMPOSE = {"docker-compose", "podman-compose"}
# options of `exec`/`run` that take a value (docker, podman, kubectl, compose, heroku, railway)
_EXEC_VALUE = {
    "-e", "--env", "--env-file", "-u", "--user", "-w", "--workdir", "--detach-keys", "-c",
    "--container", "-n", "--namespace", "--context", "--kubeconfig", "--pod-running-timeout",
    "-v", "--volume", "-p", "--publish", "--name", "--network", "--entrypoint", "--mount",
    "-l", "--label", "--platform", "--index", "-a", "--app", "-r", "--remote", "-s", "--size",
    "--service", "--environment", "-x", "--type", "--cluster", "--zone", "--project",
    "--region", "--machine", "--user-data", "--hostname", "--pull", "--restart", "--memory",
    "--cpus", "--gpus", "--runtime", "--add-host", "--dns", "--cap-add", "--cap-drop",
    "--security-opt", "--ulimit", "--log-driver", "--log-opt", "--shm-size", "--tmpfs",
    "--device", "--group-add", "--health-cmd", "--ipc", "--pid", "--cidfile", "-m", "-t",
}  # fmt: skip
_FLAG_ONLY = {"-t", "-i", "-it", "-ti", "-d", "-q"}  # single letters that never take a value


def unwrap_remote(command: SimpleCommand) -> list[SimpleCommand] | None:
    argv = command.argv
    name = argv[0].rsplit("/", 1)[-1].lower() if argv else ""
    handler = _HANDLERS.get(name)
    outer = argv[: argv.index("--")] if "--" in argv else argv
    if handler is None or "--help" in outer or "-h" in outer[:4]:
        return None  # the outer command's help page runs nothing
    return handler(command, argv)


def _inner(command: SimpleCommand, inner: list[str], via: str, remote: bool = True):
    if not inner:
        return None
    if len(inner) == 1 and " " in inner[0].strip():
        inner = ["sh", "-c", inner[0]]  # a command string: the remote shell parses it
    local = command.local or _local_outer(command.argv)
    return [
        replace(command, argv=inner, wrappers=[*command.wrappers, via.split()[0]],
                remote=(command.remote or remote) and not local, via=via, local=local)
    ]  # fmt: skip


def _local_outer(argv: list[str]) -> str | None:
    """The outer command itself targets this machine (a kind context, a local container)."""
    from agentaudit.enrich.commands.locality import local_target

    name = argv[0].rsplit("/", 1)[-1].lower()
    return local_target(invocation(name, argv[1:]), {}) if name in ("kubectl", "oc") else None


def _after_operand(args: list[str], value_opts: set[str] = _EXEC_VALUE) -> tuple[str, list[str]]:
    """(first operand, the words after it) skipping options, honouring `--`."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if arg.startswith("-") and len(arg) > 1:
            takes = arg in value_opts and arg not in _FLAG_ONLY and "=" not in arg
            i += 2 if takes else 1
            continue
        break
    if i >= len(args):
        return "", []
    operand, rest = args[i], args[i + 1 :]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    return operand, rest


def _where(inv, *names: str) -> str:
    found = [f"{n.lstrip('-')} {inv.value(n)}" for n in names if inv.value(n)]
    return f" ({', '.join(found)})" if found else ""


def _kubectl(command: SimpleCommand, argv: list[str]):
    inv = invocation(argv[0].rsplit("/", 1)[-1], argv[1:])
    if inv.words[:1] != ("exec",):
        return None
    args = argv[1:]
    start = args.index("exec") + 1
    if "--" in args[start:]:
        dash = args.index("--", start)
        pod_part, inner = args[start:dash], args[dash + 1 :]
        pod = _after_operand(pod_part)[0]
    else:
        pod, inner = _after_operand(args[start:])
    where = _where(inv, "--context", "-n", "--namespace")
    return _inner(command, inner, f"kubectl exec {pod}{where}")


def _container(command: SimpleCommand, argv: list[str]):
    name = argv[0].rsplit("/", 1)[-1]
    inv = invocation(name, argv[1:])
    words = inv.words
    if words[:1] == ("compose",) or name in _COMPOSE:
        return _compose(command, argv, name)
    if words[:1] not in (("exec",), ("run",), ("container",)):
        return None
    verb = "exec" if "exec" in words[:2] else "run"
    start = argv.index(verb, 1) + 1
    target, inner = _after_operand(argv[start:])
    return _inner(command, inner, f"{name} {verb} {target}")


def _compose(command: SimpleCommand, argv: list[str], name: str):
    args = argv[1:]
    verb_at = next((i for i, a in enumerate(args) if a in ("exec", "run")), None)
    if verb_at is None:
        return None
    service, inner = _after_operand(args[verb_at + 1 :])
    files = [a for a in args[:verb_at] if a.endswith((".yml", ".yaml"))]
    where = f" ({files[0]})" if files else ""
    return _inner(command, inner, f"{name} compose {args[verb_at]} {service}{where}")


def _gcloud(command: SimpleCommand, argv: list[str]):
    inv = invocation("gcloud", argv[1:])
    if "ssh" not in inv.words[:3]:
        return None
    script = inv.value("--command")
    host = (
        inv.words[inv.words.index("ssh") + 1] if len(inv.words) > inv.words.index("ssh") + 1 else ""
    )
    where = _where(inv, "--project", "--zone")
    return _inner(command, [script] if script else [], f"gcloud compute ssh {host}{where}")


def _fly(command: SimpleCommand, argv: list[str]):
    inv = invocation("fly", argv[1:])
    if inv.words[:2] != ("ssh", "console"):
        return None
    script = inv.value("-C", "--command")
    return _inner(
        command, [script] if script else [], f"fly ssh console{_where(inv, '-a', '--app')}"
    )


def _paas_run(command: SimpleCommand, argv: list[str]):
    name = argv[0].rsplit("/", 1)[-1]
    args = argv[1:]
    verb_at = next((i for i, a in enumerate(args) if a in ("run", "run:detached", "shell")), None)
    if verb_at is None or any(not a.startswith("-") for a in args[:verb_at]):
        return None
    rest = args[verb_at + 1 :]
    i = 0
    while i < len(rest) and rest[i].startswith("-") and rest[i] != "--":
        i += 2 if rest[i] in _EXEC_VALUE and "=" not in rest[i] else 1
    inner = rest[i + 1 :] if rest[i : i + 1] == ["--"] else rest[i:]
    inv = invocation(name, args)
    where = _where(inv, "-a", "--app", "-s", "--service", "-e", "--environment")
    # heroku runs a one-off dyno; railway runs here with the service's variables (its database)
    return _inner(command, inner, f"{name} run{where}", remote=name == "heroku")


def _az(command: SimpleCommand, argv: list[str]):
    inv = invocation("az", argv[1:])
    if inv.words[:2] != ("vm", "run-command"):
        return None
    scripts = inv.all_values("--scripts")
    where = _where(inv, "-g", "--resource-group", "-n", "--name")
    return _inner(command, [" ; ".join(scripts)] if scripts else [], f"az vm run-command{where}")


def _aws(command: SimpleCommand, argv: list[str]):
    inv = invocation("aws", argv[1:])
    if inv.words[:2] != ("ssm", "send-command"):
        return None
    params = inv.value("--parameters") or ""
    commands: list[str] = []
    try:
        parsed = json.loads(params)
        commands = [str(c) for c in parsed.get("commands", [])] if isinstance(parsed, dict) else []
    except ValueError:
        match = re.search(r"commands=\[?(.*?)\]?$", params, re.S)
        if match:
            commands = [
                c.strip().strip("\"'") for c in re.split(r"\",\s*\"|,(?=\s*\")", match.group(1))
            ]
    where = _where(inv, "--instance-ids", "--targets")
    return _inner(
        command, [" ; ".join(commands)] if commands else [], f"aws ssm send-command{where}"
    )


def _lxc(command: SimpleCommand, argv: list[str]):
    args = argv[1:]
    if args[:1] != ["exec"] or "--" not in args:
        return None
    target = next((a for a in args[1:] if not a.startswith("-")), "")
    return _inner(command, args[args.index("--") + 1 :], f"{argv[0]} exec {target}")


def _vagrant(command: SimpleCommand, argv: list[str]):
    inv = invocation("vagrant", argv[1:])
    script = inv.value("-c", "--command")
    if inv.words[:1] != ("ssh",) or not script:
        return None
    return _inner(command, [script], "vagrant ssh")


_HANDLERS = {
    "kubectl": _kubectl, "oc": _kubectl, "microk8s.kubectl": _kubectl,
    **dict.fromkeys(_CONTAINER_CLIS | _COMPOSE, _container),
    "gcloud": _gcloud, "fly": _fly, "flyctl": _fly, "heroku": _paas_run, "railway": _paas_run,
    "az": _az, "aws": _aws, "lxc": _lxc, "incus": _lxc, "vagrant": _vagrant,
}  # fmt: skip
