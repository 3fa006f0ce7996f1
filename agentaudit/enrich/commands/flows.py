"""Credentials leaving the machine within one command line (`credential_exfil`).

A command that produces a credential (`gh auth token`, `gcloud auth print-access-token`,
`aws secretsmanager get-secret-value`, `vault kv get`, `op read`, `kubectl get secret -o`, a
key or credential file read or archived, the whole environment) reaches a network sink (curl
or wget data, nc, scp/rsync, a DNS lookup, Python or Node code that uploads) through a pipe,
a command substitution, a variable or a file written earlier in the same line. Sending a
token to its own issuer (a GitHub token to api.github.com, an ECR password to ECR) is how
it is meant to be used, not exfiltration. Across a session: issue 17.
"""

from __future__ import annotations

import re
import shlex
from urllib.parse import urlsplit

from agentaudit.enrich.commands.argv import invocation
from agentaudit.enrich.commands.model import Finding
from agentaudit.enrich.commands.parse import SimpleCommand
from agentaudit.enrich.commands.programs.hygiene import is_secret_path

# (program, leading words) -> issuer of the credential ("" = none: any outside host is exfil)
_SOURCES: list[tuple[str, tuple[str, ...], str]] = [
    ("gh", ("auth", "token"), "github"), ("gh", ("auth", "status"), "github"),
    ("gcloud", ("auth", "print-access-token"), "gcp"),
    ("gcloud", ("auth", "print-identity-token"), "gcp"),
    ("gcloud", ("auth", "application-default", "print-access-token"), "gcp"),
    ("aws", ("secretsmanager", "get-secret-value"), ""), ("aws", ("sts",), "aws"),
    ("aws", ("ssm", "get-parameter"), ""), ("aws", ("ssm", "get-parameters"), ""),
    ("aws", ("configure", "get"), "aws"), ("aws", ("configure", "export-credentials"), "aws"),
    ("aws", ("ecr", "get-login-password"), "aws"), ("aws", ("iam", "create-access-key"), "aws"),
    ("aws", ("rds", "generate-db-auth-token"), "aws"),
    ("az", ("account", "get-access-token"), "azure"), ("az", ("keyvault", "secret", "show"), ""),
    ("vault", ("kv", "get"), ""), ("vault", ("read",), ""), ("vault", ("print", "token"), ""),
    ("op", ("read",), ""), ("op", ("item", "get"), ""), ("op", ("inject",), ""),
    ("bw", ("get",), ""), ("pass", ("show",), ""), ("security", ("find-generic-password",), ""),
    ("doppler", ("secrets",), ""), ("heroku", ("auth:token",), "heroku"),
    ("fly", ("auth", "token"), "fly"), ("flyctl", ("auth", "token"), "fly"),
    ("kubectl", ("config", "view"), ""), ("printenv", (), ""), ("env", (), ""),
]  # fmt: skip
_ISSUER_HOSTS = {
    "github": ("github.com", "githubusercontent.com", "ghcr.io"),
    "gcp": ("googleapis.com", "pkg.dev", "gcr.io", "google.com"),
    "aws": ("amazonaws.com", "aws.amazon.com"),
    "azure": ("azure.com", "azurecr.io", "microsoft.com", "windows.net", "azure.net"),
    "heroku": ("heroku.com",),
    "fly": ("fly.io", "machines.dev"),
}
_ARCHIVERS = {"tar", "zip", "7z", "gzip", "bzip2", "xz", "zstd", "cpio", "base64", "openssl",
              "gpg", "cat", "xxd", "od", "head", "tail", "cp", "jq", "yq", "sed", "awk"}  # fmt: skip
_HTTP = {"curl", "wget", "http", "https", "xh", "httpie"}
_SOCKETS = {"nc", "ncat", "netcat", "socat", "telnet", "openssl"}
_COPIERS = {"scp", "rsync", "sftp"}
_DNS = {"dig", "nslookup", "host", "drill", "resolvectl"}
_INTERPRETERS = {"python", "python3", "node", "nodejs", "deno", "bun", "ruby", "perl", "php"}
_UPLOAD = re.compile(r"(requests|httpx|session|client)\.(post|put|patch)\b|urlopen|urllib\.request|"
                     r"http\.client|socket\.|fetch\s*\(|axios|https?\.request|XMLHttpRequest|"
                     r"Net::HTTP|LWP|IO::Socket")  # fmt: skip
_SUBSTITUTION = re.compile(r"\$\((.+?)\)|`([^`]+)`", re.S)
_URL = re.compile(r"(?:https?|ftp)://[^\s'\"]+|\b(?:\d{1,3}\.){3}\d{1,3}\b")
_DATA_OPTS = ("-d", "--data", "--data-raw", "--data-binary", "--data-urlencode", "--json", "-F",
              "--form", "-T", "--upload-file", "--post-data", "--post-file", "--body-data",
              "--body-file", "-H", "--header")  # fmt: skip
_LOCAL = re.compile(r"^(localhost|127\.|\[?::1|0\.0\.0\.0)")


def _words(argv: list[str]) -> tuple[str, tuple[str, ...]]:
    from agentaudit.enrich.commands.normalize import program_name

    while (
        argv
        and program_name(argv[0]) in ("sudo", "env", "command", "nohup", "timeout")
        and len(argv) > 1
    ):
        argv = argv[1:] if program_name(argv[0]) != "timeout" else argv[2:]
    if not argv:
        return "", ()
    return program_name(argv[0]), tuple(a for a in argv[1:] if not a.startswith("-"))


def credential_source(argv: list[str]) -> str | None:
    """The issuer of the credential `argv` prints ("" for none), or None if it prints none."""
    program, words = _words(argv)
    for name, lead, issuer in _SOURCES:
        if program == name and words[: len(lead)] == lead:
            if name == "env" and words:
                return None  # `env X=1 cmd` runs a command
            return issuer
    if (
        program in ("kubectl", "oc")
        and words[:1] == ("get",)
        and words[1:2]
        and words[1].startswith("secret")
    ):
        output = " ".join(argv)
        if re.search(r"(-o|--output)[= ]?(ya?ml|json|jsonpath|go-template)", output):
            return ""
    if program in _ARCHIVERS and any(
        is_secret_path(w.lstrip("@")) or is_secret_path(w.lstrip("@").rstrip("/") + "/")
        for w in words
    ):
        return ""
    if program in ("echo", "printf") and re.search(
        r"\$\{?\w*(TOKEN|SECRET|PASSWORD|API_KEY|ACCESS_KEY|CREDENTIAL)", " ".join(argv), re.I
    ):
        return ""
    return None


def _inner_sources(text: str) -> list[str]:
    issuers = []
    for match in _SUBSTITUTION.finditer(text):
        inner = match.group(1) or match.group(2) or ""
        for part in re.split(r"[|;&]+", inner):
            try:
                argv = shlex.split(part)
            except ValueError:
                argv = part.split()
            issuer = credential_source(argv) if argv else None
            if issuer is not None:
                issuers.append(issuer)
    return issuers


def _sink(cmd: SimpleCommand) -> tuple[str, str] | None:
    """(kind, destination host) when the command sends data off the machine."""
    program = cmd.program
    args = cmd.argv[1:]
    text = " ".join(args)
    if program in _HTTP:
        url = next((m.group(0) for m in _URL.finditer(text)), None)
        return ("http", _host(url)) if url else None
    if program in ("docker", "podman", "helm", "oras", "skopeo") and "login" in args:
        host = next((a for a in args if "." in a and not a.startswith("-")), "")
        return ("registry login", _host(host))
    if program in _SOCKETS:
        hosts = [a for a in args if not a.startswith("-") and not a.isdigit()]
        return ("socket", hosts[0] if hosts else "")
    if program in _COPIERS:
        remote = next((a for a in args if re.match(r"^[\w.@-]+:", a) and "://" not in a), None)
        if remote:
            return ("copy", remote.split(":", 1)[0].split("@")[-1])
        return None
    if cmd.remote and cmd.stdin_piped and cmd.via:
        # `... | ssh host 'cat > f'`: what the pipe carries reaches the other host
        outer = cmd.via.split()
        if outer[0] != "ssh":
            return ("remote shell", cmd.via)
        words = invocation("ssh", outer[1:]).words
        return ("ssh", words[0].split("@")[-1]) if words else None
    if program in _DNS:
        return ("dns", next((a for a in args if not a.startswith("-")), ""))
    if program in _INTERPRETERS and _UPLOAD.search(text):
        url = next((m.group(0) for m in _URL.finditer(text)), "")
        return ("code upload", _host(url))
    if program == "gh" and args[:2] == ["gist", "create"]:
        return ("gist", "gist.github.com")
    for _op, target in cmd.redirects:
        if target.startswith("/dev/tcp/") or target.startswith("/dev/udp/"):
            return ("socket", target.split("/")[3] if target.count("/") >= 3 else "")
    return None


def _host(url: str | None) -> str:
    if not url:
        return ""
    return (urlsplit(url if "://" in url else f"http://{url}").hostname or "").lower()


def _to_issuer(host: str, issuers: list[str]) -> bool:
    """Every credential in play goes to its own issuer (or the host is this machine)."""
    if _LOCAL.match(host or ""):
        return True
    return bool(issuers) and all(
        i and any(host == h or host.endswith("." + h) for h in _ISSUER_HOSTS.get(i, ()))
        for i in issuers
    )


def credential_exfil(commands: list[SimpleCommand]) -> list[Finding]:
    """Findings for credentials that reach a network sink in this command line."""
    if not any(_sink(c) for c in commands):
        return []
    tainted_files: dict[str, str] = {}
    line_issuers: list[str] = []
    findings: list[Finding] = []
    for cmd in commands:
        issuer = credential_source(cmd.argv)
        if issuer is not None:
            line_issuers.append(issuer)
            for op, target in cmd.redirects:
                if op in (">", ">>", ">|", "&>"):
                    tainted_files[target] = issuer
            archive = _archive_output(cmd)
            if archive:
                tainted_files[archive] = issuer
        sink = _sink(cmd)
        if sink is None:
            continue
        kind, host = sink
        text = " ".join(cmd.argv[1:])
        issuers = _inner_sources(text)
        issuers += [i for argv in cmd.upstream if (i := credential_source(argv)) is not None]
        issuers += [tainted_files[f] for f in tainted_files if f in text]
        files = [a for a in _file_args(cmd) if is_secret_path(a)]
        issuers += [""] * len(files)
        if not issuers and line_issuers and re.search(r"\$[\w({]", text):
            issuers = list(line_issuers)  # a variable set from a credential earlier in the line
        if kind == "code upload" and re.search(
            r"\.aws/|\.ssh/|\.npmrc|\.netrc|\.docker/config|"
            r"credentials|os\.environ\b(?!\[)|process\.env\b(?!\.)",
            text,
        ):
            issuers.append("")
        if not issuers or _to_issuer(host, issuers):
            continue
        what = f"{files[0]}" if files else "a credential"
        findings.append(
            Finding("exfil.credential", "credential_exfil", "high",
                    f"{what} sent to {host or 'the network'} ({kind}) in the same command line",
                    operation=f"{cmd.program} ({kind})", target=host or None, scope="remote")
        )  # fmt: skip
    return findings


def _archive_output(cmd: SimpleCommand) -> str | None:
    """`tar czf /tmp/k.tgz ~/.ssh`, `zip -r k.zip ~/.aws`, `cp ~/.aws/credentials /tmp/c`."""
    args = cmd.argv[1:]
    if cmd.program == "tar":
        if args and not args[0].startswith("-") and "f" in args[0] and len(args) > 1:
            return args[1]  # old-style bundle: `tar czf out.tgz ...`
        for i, a in enumerate(args):
            if a.startswith("-") and "f" in a and not a.startswith("--") and i + 1 < len(args):
                return args[i + 1]
            if a.startswith("--file="):
                return a.split("=", 1)[1]
    if cmd.program in ("zip", "7z") and len(args) >= 2:
        return next((a for a in args if not a.startswith("-") and a != "a"), None)
    if cmd.program == "cp" and len(args) >= 2:
        return args[-1]
    return None


def _file_args(cmd: SimpleCommand) -> list[str]:
    """Files a sink reads and sends: `-F f=@x`, `-d @x`, `--post-file=x`, scp/rsync sources."""
    out = []
    for a in cmd.argv[1:]:
        value = a.split("=", 1)[1] if a.startswith("--") and "=" in a else a
        if "@" in value and not re.match(r"^[\w.-]+@[\w.-]+:", value):
            value = value.split("@", 1)[1]
        out.append(value)
    return out


# Download then execute within one command line -------------------------------------------

_FETCHERS = {"curl", "wget", "aria2c", "fetch", "http", "xh"}
FETCHERS = frozenset(_FETCHERS)  # the programs `download_target` reads (detectors' SQL hints)
_RUNNERS = {"sh", "bash", "zsh", "dash", "ksh", "source", ".", "python", "python3", "node",
            "perl", "ruby", "php", "deno", "bun", "pwsh"}  # fmt: skip


def _download_target(cmd: SimpleCommand) -> str | None:
    """The file a fetcher writes: curl/wget (`-o X`, `-O` = the URL's basename, wget's
    default), httpie and xh (`-o/--output X`, `-d/--download` = the URL's basename), aria2c
    (`-o/--out X` under `-d/--dir D`, else the basename), fetch(1) (`-o X`, else the basename)."""
    args = cmd.argv[1:]
    url = next((a for a in args if "://" in a), "")
    basename = urlsplit(url).path.rsplit("/", 1)[-1] if url else ""
    if cmd.program in ("http", "xh", "aria2c", "fetch"):
        return _named_output(cmd.program, args, basename)
    for i, arg in enumerate(args):
        nxt = args[i + 1] if i + 1 < len(args) else ""
        if cmd.program == "curl":
            if arg in ("-o", "--output") or (
                arg.startswith("-") and not arg.startswith("--") and arg.endswith("o")
            ):
                return nxt or None
            if arg in ("-O", "--remote-name") or (
                arg.startswith("-") and not arg.startswith("--") and "O" in arg
            ):
                return basename or None
        if cmd.program == "wget":
            if arg.startswith("--output-document="):
                value = arg.split("=", 1)[1]
                return None if value == "-" else value
            if arg in ("-O", "--output-document") or (
                arg.startswith("-") and not arg.startswith("--") and arg.endswith("O")
            ):
                return None if nxt == "-" else nxt or None
            if (
                arg.startswith("-")
                and not arg.startswith("--")
                and "O" in arg
                and arg.index("O") < len(arg) - 1
            ):
                value = arg[arg.index("O") + 1 :]
                return None if value == "-" else value
    if cmd.program in ("wget", "aria2c") and basename:
        return basename
    return None


def _option_value(args: list[str], *names: str) -> str | None:
    """The value of the first `-o X`, `--output X` or `--output=X` among `names`."""
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if name.startswith("--") and arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def _named_output(program: str, args: list[str], basename: str) -> str | None:
    if program in ("http", "xh"):  # output goes to the terminal unless -o or --download
        output = _option_value(args, "-o", "--output")
        downloads = any(a in ("-d", "--download") for a in args)
        return output or (basename if downloads else None) or None
    if program == "aria2c":  # always writes a file: -o names it inside -d
        name = _option_value(args, "-o", "--out") or basename
        folder = _option_value(args, "-d", "--dir")
        return (f"{folder.rstrip('/')}/{name}" if folder else name) if name else None
    output = _option_value(args, "-o")  # fetch(1): -o - is the terminal
    return None if output == "-" else output or basename or None


def _same_file(a: str, b: str) -> bool:
    return a == b or a.rsplit("/", 1)[-1] == b.rsplit("/", 1)[-1]


def downloaded_then_run(commands: list[SimpleCommand], analyze) -> list[Finding]:
    """`curl -o x.sh URL && bash x.sh`, `wget -O /tmp/u URL; chmod +x /tmp/u; /tmp/u`,
    `echo 'rm -rf /' > /tmp/c.sh && at -f /tmp/c.sh now`: the file's content runs."""
    from agentaudit.enrich.commands.parse import literal_output

    if not any(c.program in _FETCHERS or c.redirects for c in commands):
        return []
    downloaded: dict[str, str] = {}
    written: dict[str, str] = {}
    findings: list[Finding] = []
    for cmd in commands:
        if cmd.program in _FETCHERS:
            target = _download_target(cmd)
            if target:
                downloaded[target] = next((a for a in cmd.argv if "://" in a), "")
        text = literal_output(cmd)
        for op, target in cmd.redirects:
            if op in (">", ">>") and text is not None:
                written[target] = written.get(target, "") + text if op == ">>" else text
        args = [a for a in cmd.argv[1:] if not a.startswith("-")]
        files = []
        if cmd.program in _RUNNERS and args:
            files.append(args[0])
        if cmd.program in ("at", "batch"):
            files += [cmd.argv[i + 1] for i, a in enumerate(cmd.argv[:-1]) if a == "-f"]
        files.append(cmd.argv[0])  # ./x or /tmp/.u run directly (program name is its basename)
        for file in files:
            source = next((u for d, u in downloaded.items() if _same_file(d, file)), None)
            if source is not None and file not in ("bash", "sh"):
                findings.append(Finding(
                    "exec.downloaded-file", "remote_code_exec", "high",
                    f"runs {file}, downloaded from {source or 'the network'} earlier in the line",
                    operation=f"{cmd.program} {file}", target=source or None))  # fmt: skip
            script = next((t for w, t in written.items() if _same_file(w, file)), None)
            if script is not None and cmd.program in (*_RUNNERS, "at", "batch"):
                findings += analyze(script, cmd.depth + 1)
    return findings


def destroy_plan_applied(commands: list[SimpleCommand]) -> list[Finding]:
    """`terraform plan -destroy -out=p && terraform apply p`: the plan is a preview, applying it
    in the same line destroys."""
    from agentaudit.enrich.commands.argv import invocation

    plans: set[str] = set()
    findings = []
    for cmd in commands:
        if cmd.program not in ("terraform", "tofu", "terragrunt"):
            continue
        inv = invocation(cmd.program, cmd.argv[1:])
        if inv.words[:1] == ("plan",) and inv.has("--destroy") and inv.value("--out"):
            plans.add(inv.value("--out") or "")
        elif inv.words[:1] == ("apply",) and any(w in plans for w in inv.words[1:]):
            findings.append(Finding("iac.destroy-plan-applied", "infra_destroy", "critical",
                                    "applies a destroy plan saved earlier in the line",
                                    operation=f"{cmd.program} apply (destroy plan)"))  # fmt: skip
    return findings


# The same facts about one stored argv (the `argvs` column), for detectors that follow a
# credential or a download across a session's calls without parsing the command again.


def network_sink(argv: list[str]) -> tuple[str, str] | None:
    """(kind, destination host) when the stored argv sends data off the machine."""
    return _sink(SimpleCommand(list(argv))) if argv else None


def sent_files(argv: list[str]) -> list[str]:
    """Files the stored argv's network sink reads and sends (`-F f=@x`, scp sources)."""
    return _file_args(SimpleCommand(list(argv))) if argv else []


def archive_output(argv: list[str]) -> str | None:
    """The archive or copy the stored argv writes (`tar czf out ...`, `cp src out`)."""
    return _archive_output(SimpleCommand(list(argv))) if argv else None


def download_target(argv: list[str]) -> str | None:
    """The file a stored curl/wget argv writes, or None."""
    command = SimpleCommand(list(argv))
    return _download_target(command) if argv and command.program in _FETCHERS else None
