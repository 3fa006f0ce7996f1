"""Commands that print a stored secret or mint a credential (`credential_access`).

A secret manager's read (`aws secretsmanager get-secret-value`, `vault kv get`, `op read`,
`kubectl get secret -o yaml`) puts a production secret in the agent's context: it is classed
as credential access whatever happens next, rated low on its own (reading a secret through
the tool made for it is how applications are configured; the peers' corpora label it safe)
so that the session analysis, not this line, decides: `flows.py` when it leaves the machine
in the same line, the credential detectors when it is used later. Minting a long-lived key
is medium. Token printers that feed a login of the same issuer (`aws ecr get-login-password |
docker login`) are how those tools are meant to be used and are left to `flows.py`.
Hand-written table: no CLI publishes which of its operations reveal a secret.
"""

from __future__ import annotations

import re

from agentaudit.enrich.commands.argv import invocation
from agentaudit.enrich.commands.model import Finding
from agentaudit.enrich.commands.parse import SimpleCommand
from agentaudit.enrich.commands.programs.base import Context

# (program, leading operands, required option or "") -> what it reveals
_READS: list[tuple[str, tuple[str, ...], str, str]] = [
    ("aws", ("secretsmanager", "get-secret-value"), "", "a Secrets Manager secret"),
    ("aws", ("secretsmanager", "batch-get-secret-value"), "", "Secrets Manager secrets"),
    ("aws", ("ssm", "get-parameter"), "--with-decryption", "a SecureString parameter"),
    ("aws", ("ssm", "get-parameters"), "--with-decryption", "SecureString parameters"),
    ("aws", ("ssm", "get-parameters-by-path"), "--with-decryption", "SecureString parameters"),
    ("aws", ("configure", "export-credentials"), "", "the AWS credentials"),
    ("aws", ("sts", "get-session-token"), "", "temporary AWS credentials"),
    ("aws", ("sts", "assume-role"), "", "temporary AWS credentials"),
    ("gcloud", ("secrets", "versions", "access"), "", "a Secret Manager secret"),
    ("az", ("keyvault", "secret", "show"), "", "a Key Vault secret"),
    ("az", ("keyvault", "secret", "download"), "", "a Key Vault secret"),
    ("vault", ("kv", "get"), "", "a Vault secret"), ("vault", ("read",), "", "a Vault secret"),
    ("op", ("read",), "", "a 1Password secret"), ("op", ("item", "get"), "", "a 1Password item"),
    ("bw", ("get",), "", "a Bitwarden secret"), ("pass", ("show",), "", "a pass entry"),
    ("security", ("find-generic-password",), "-w", "a keychain password"),
    ("doppler", ("secrets",), "", "Doppler secrets"),
    ("heroku", ("config",), "", "the app's config vars"),
    ("railway", ("variables",), "", "the service's variables"),
    ("fly", ("secrets", "list"), "", "the app's secret names"),
]  # fmt: skip
_MINTS: list[tuple[str, tuple[str, ...], str]] = [
    ("aws", ("iam", "create-access-key"), "a long-lived IAM access key"),
    ("gcloud", ("iam", "service-accounts", "keys", "create"), "a service-account key file"),
    ("az", ("ad", "sp", "create-for-rbac"), "a service principal secret"),
]
_KUBE_SECRET_OUTPUT = re.compile(r"(-o|--output)[= ]?(ya?ml|json|jsonpath|go-template)")


def secret_store_reads(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    program, text = cmd.program, " ".join(cmd.argv)
    read = invocation(program, cmd.argv[1:])
    words = read.words
    for name, lead, option, what in _READS:
        if program == name and _starts(words, lead) and (not option or read.has(option)):
            return [
                _finding("secrets.store-read", f"{' '.join(lead)} prints {what}", cmd, lead, "low")
            ]
    for name, lead, what in _MINTS:
        if program == name and _starts(words, lead):
            return [_finding("secrets.mint", f"{' '.join(lead)} creates {what}", cmd, lead)]
    if (
        program in ("kubectl", "oc")
        and words[:1] == ("get",)
        and any(w.startswith("secret") for w in words[1:2])
        and _KUBE_SECRET_OUTPUT.search(text)
    ):
        return [
            _finding("secrets.store-read", "get secret -o prints its data", cmd, words[:2], "low")
        ]
    return []


def _starts(words: tuple[str, ...], lead: tuple[str, ...]) -> bool:
    # `heroku config:get X` and `heroku config` both start with the topic
    return len(words) >= len(lead) and all(
        w == want or (w.startswith(want + ":") and i == len(lead) - 1)
        for i, (w, want) in enumerate(zip(words, lead, strict=False))
    )


def _finding(
    rule: str, reason: str, cmd: SimpleCommand, lead: tuple[str, ...], severity: str = "medium"
) -> Finding:
    return Finding(rule, "credential_access", severity, reason,
                   operation=f"{cmd.program} {' '.join(lead)}")  # fmt: skip
