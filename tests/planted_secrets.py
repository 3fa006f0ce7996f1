"""Planted secrets: fake credentials in their real shapes, the places a record carries them,
real-format input files that carry them, and scanners that find them in a store or a file.

Standard library only (plus `duckdb` for `scan_store`); nothing from `agentaudit` is imported,
so the corpus and the scanners judge the tool from outside.

Every value is derived from `SEED` (SHA-256 counter stream mapped onto each format's alphabet):
none was ever issued by a vendor, and the same value comes out on every machine and run. The
shapes are real (prefix, length, alphabet, and the CRC32 checksum where the format has one),
so a redactor cannot tell them from live credentials and a test that passes here passes for the
real thing. The values are never written into the repository: `write_sources` makes the input
files at test time (keep it that way: a checked-in file with a valid-checksum `ghp_` token is
what push protection and secret scanners exist to stop).

Use:

    paths = write_sources(tmp_path / "inputs")          # every shape in every carrier, all formats
    ... agentaudit ingest / detect / export / timeline ...
    assert scan_store(db_path, SHAPES) == []            # every column of every table, through SQL
    assert scan_paths([exports, wal, logs], SHAPES) == []

`needles(SHAPES)` is what is searched for: each value and its distinctive parts of at least 12
characters (the token after its prefix, each part of a JWT, PEM body lines, the password of a
URL), so a value that is redacted only in part (a PEM whose header line alone was replaced, a
JWT whose signature survived) is still found.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import json
import struct
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

SEED = "agentaudit/planted-secrets/v1"
MIN_FRAGMENT = 12

_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # base62, 0-9A-Za-z
_UPPER_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_HEX = "0123456789abcdef"
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_DIGITS = "0123456789"


# -- deterministic values ------------------------------------------------------------------------


def _bytes(label: str, n: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"{SEED}|{label}|{counter}".encode()).digest()
        counter += 1
    return bytes(out[:n])


def _draw(label: str, alphabet: str, n: int) -> str:
    """n characters of `alphabet`, uniformly (rejection sampling), from the seeded stream."""
    limit = 256 - 256 % len(alphabet)
    out: list[str] = []
    counter = 0
    while len(out) < n:
        for byte in hashlib.sha256(f"{SEED}|{label}|chars|{counter}".encode()).digest():
            if byte < limit:
                out.append(alphabet[byte % len(alphabet)])
                if len(out) == n:
                    break
        counter += 1
    return "".join(out)


def _uuid4(label: str) -> str:
    return str(uuid.UUID(bytes=_bytes(label, 16), version=4))


def _base62(number: int, width: int) -> str:
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = _ALNUM[rest] + digits
    return digits.rjust(width, "0")


def _checksummed(prefix: str, label: str) -> str:
    """GitHub's (and npm's) token format: 30 random base62 characters and a 6-character base62
    CRC32 of them. https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/
    ; the check as detectors run it: Samsung/CredSweeper `filters/value_github_check.py` (MIT):
    crc32(token[4:-6]) == base62decode(token[-6:])."""
    body = _draw(label, _ALNUM, 30)
    return prefix + body + _base62(zlib.crc32(body.encode()), 6)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _pem(kind: str, der: bytes, width: int = 64) -> str:
    body = _b64(der)
    lines = [body[i : i + width] for i in range(0, len(body), width)]
    return f"-----BEGIN {kind}-----\n" + "\n".join(lines) + f"\n-----END {kind}-----"


def _rsa_pkcs1_der(label: str) -> bytes:
    # SEQUENCE (len 0x4a3) { INTEGER 0 (version), INTEGER (257-byte modulus) ... }: the DER head
    # every 2048-bit PKCS#1 key has ("MIIEowIBAAKCAQEA"), then seeded bytes to the real length.
    head = bytes.fromhex("308204a3020100028201010000")
    return head + _bytes(label, 0x4A3 + 4 - len(head))


def _rsa_pkcs8_der(label: str) -> bytes:
    # PrivateKeyInfo { version 0, AlgorithmIdentifier rsaEncryption, OCTET STRING { PKCS#1 } }:
    # the head of every 2048-bit PKCS#8 RSA key ("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"), as in GCP
    # service-account key files.
    head = bytes.fromhex(
        "308204bd020100300d06092a864886f70d0101010500048204a7308204a30201000282010100"
    )
    return head + _bytes(label, 0x4BD + 4 - len(head))


def _ec_sec1_der(label: str) -> bytes:
    # ECPrivateKey (RFC 5915) on prime256v1: "MHcCAQEEI..." with a 32-byte key and 65-byte point.
    key = _bytes(label + "/d", 32)
    point = b"\x04" + _bytes(label + "/q", 64)
    return (
        bytes.fromhex("30770201010420")
        + key
        + bytes.fromhex("a00a06082a8648ce3d030107a144034200")
        + point
    )


def _ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _openssh_ed25519(label: str) -> str:
    """openssh-key-v1 (PROTOCOL.key in OpenSSH): unencrypted ed25519, wrapped at 70 columns."""
    public = _bytes(label + "/pub", 32)
    secret = _bytes(label + "/sec", 32) + public
    pub_blob = _ssh_string(b"ssh-ed25519") + _ssh_string(public)
    check = _bytes(label + "/check", 4)
    private = (
        check
        + check
        + _ssh_string(b"ssh-ed25519")
        + _ssh_string(public)
        + _ssh_string(secret)
        + _ssh_string(b"deploy@planted")
    )
    private += bytes(range(1, 1 + (-len(private)) % 8))
    blob = (
        b"openssh-key-v1\x00"
        + _ssh_string(b"none")
        + _ssh_string(b"none")
        + _ssh_string(b"")
        + struct.pack(">I", 1)
        + _ssh_string(pub_blob)
        + _ssh_string(private)
    )
    return _pem("OPENSSH PRIVATE KEY", blob, width=70)


def _jwt(label: str, header: dict[str, Any], claims: dict[str, Any], sig_bytes: int) -> str:
    head = _b64url(json.dumps(header, separators=(",", ":")).encode())
    body = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    return f"{head}.{body}.{_b64url(_bytes(label + '/sig', sig_bytes))}"


def _password(label: str, n: int = 20) -> str:
    return _draw(label, _ALNUM, n)


# -- shapes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """One kind of secret and its fake value, with how it is conventionally written.

    Templates hold `{v}` where the value goes (str.replace, so JSON braces stay as they are).
    A template left None means that carrier makes no sense for this shape.
    """

    name: str
    value: str
    source: str  # where the shape is documented (vendor doc, detector rule), for review
    env: str  # the environment variable that conventionally holds it
    cli: str | None = None  # a command taking it as an argument
    env_cmd: str = "./scripts/deploy.sh"  # a command that reads `env` from the environment
    header: str | None = "Authorization: Bearer {v}"  # an HTTP header carrying it
    api: str = "https://api.example.com/v1/me"  # where that header is sent
    url: str | None = None  # a URL carrying it (default: api?access_token={v})
    destructive: str | None = None  # a destructive call carrying it (default: DELETE with header)
    key: str | None = None  # key name in ini / YAML / JSON files (default: env lower-cased)
    native: tuple[str, str] | None = None  # (path, content) of the file it lives in
    prefix: str = ""  # the fixed part before the random part (not a needle by itself)
    fragments: tuple[str, ...] = ()  # extra distinctive parts (>= 12 chars) to search for

    @property
    def multiline(self) -> bool:
        return "\n" in self.value

    @property
    def config_key(self) -> str:
        return self.key or self.env.lower()

    def fill(self, template: str) -> str:
        return template.replace("{v}", self.value)

    def needles(self) -> tuple[str, ...]:
        """The value and its distinctive parts (each at least MIN_FRAGMENT characters)."""
        found = [self.value]
        if self.prefix and self.value.startswith(self.prefix):
            found.append(self.value[len(self.prefix) :])
        if self.multiline:  # PEM: every body line is random and long (the header is not)
            body = [ln for ln in self.value.splitlines() if not ln.startswith("-----")]
            found += [body[0], body[len(body) // 2], body[-1]]
        found += self.fragments
        out: list[str] = []
        for item in found:
            if len(item) >= MIN_FRAGMENT and item not in out:
                out.append(item)
        return tuple(out)


def _shapes() -> list[Shape]:
    s: list[Shape] = []
    add = s.append

    # --- AWS ---------------------------------------------------------------------------------
    key_id = "AKIA" + _draw("aws_access_key_id", _UPPER_B32, 16)
    secret = _draw("aws_secret_access_key", _B64, 40)
    session = "IQoJb3JpZ2luX2Vj" + _draw("aws_session_token", _B64, 380) + "=="
    aws_creds = (
        "~/.aws/credentials",
        "[default]\n"
        f"aws_access_key_id = {key_id}\n"
        f"aws_secret_access_key = {secret}\n"
        f"aws_session_token = {session}\n"
        "region = us-east-1\n",
    )
    aws_src = (
        "AWS IAM User Guide, id_credentials_access-keys (key id AKIA + 16, secret 40 chars); "
        "gitleaks cmd/generate/config/rules/aws.go `(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}`"
    )
    add(
        Shape(
            "aws_access_key_id",
            key_id,
            aws_src,
            "AWS_ACCESS_KEY_ID",
            cli="aws configure set aws_access_key_id {v}",
            env_cmd="aws s3 ls",
            header=None,
            url="https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Credential={v}%2F20260520%2Fus-east-1%2Fsts%2Faws4_request",
            destructive="AWS_ACCESS_KEY_ID={v} aws s3 rb s3://acme-prod-backups --force",
            native=aws_creds,
            prefix="AKIA",
            fragments=(key_id,),
        )
    )
    add(
        Shape(
            "aws_secret_access_key",
            secret,
            aws_src + "; noseyparker np.aws.2 (40 chars [A-Za-z0-9/+=])",
            "AWS_SECRET_ACCESS_KEY",
            cli="aws configure set aws_secret_access_key {v}",
            env_cmd="aws s3 ls",
            header=None,
            url=None,
            destructive="AWS_SECRET_ACCESS_KEY={v} aws rds delete-db-instance --db-instance-identifier prod-db --skip-final-snapshot",
            native=aws_creds,
        )
    )
    add(
        Shape(
            "aws_session_token",
            session,
            "AWS STS GetSessionToken / AWS_SESSION_TOKEN (CLI env docs); base64; the IQoJb3JpZ2luX2Vj "
            "head is what current STS tokens start with in public samples (not documented by AWS); "
            "noseyparker np.aws.4 keys on the aws_session_token context",
            "AWS_SESSION_TOKEN",
            cli="aws configure set aws_session_token {v}",
            env_cmd="aws sts get-caller-identity",
            header="X-Amz-Security-Token: {v}",
            api="https://s3.amazonaws.com/acme-prod-backups",
            url=None,
            native=aws_creds,
            prefix="IQoJb3JpZ2luX2Vj",
        )
    )
    lower = _draw("aws_secret_lowercase_ini", _B64, 40)
    add(
        Shape(
            "aws_secret_lowercase_ini",
            lower,
            "~/.aws/credentials as the AWS CLI writes it (lower-case keys, `key = value`): AWS CLI "
            "User Guide, cli-configure-files",
            "AWS_SECRET_ACCESS_KEY",
            cli="aws configure set aws_secret_access_key {v} --profile ci",
            header=None,
            key="aws_secret_access_key",
            native=(
                "~/.aws/credentials",
                "[ci]\naws_access_key_id = AKIAJ7Q3RPLANTEDKEY2\naws_secret_access_key = {v}\n",
            ),
        )
    )

    # --- GitHub ------------------------------------------------------------------------------
    gh_src = (
        "GitHub docs 'About authentication to GitHub' (token prefixes ghp_/gho_/ghu_/ghs_/ghr_); "
        "github.blog 2021-04-05 token formats (30 base62 + CRC32 checksum); gitleaks rules/github.go"
    )
    for prefix, name, env in (
        ("ghp_", "github_pat_classic", "GITHUB_TOKEN"),
        ("gho_", "github_oauth_token", "GH_TOKEN"),
        ("ghu_", "github_user_to_server", "GITHUB_USER_TOKEN"),
        ("ghs_", "github_server_to_server", "GITHUB_APP_TOKEN"),
        ("ghr_", "github_refresh_token", "GITHUB_REFRESH_TOKEN"),
    ):
        add(
            Shape(
                name,
                _checksummed(prefix, name),
                gh_src,
                env,
                cli="gh secret set DEPLOY_TOKEN --repo acme/app --body {v}",
                env_cmd="gh api user",
                header="Authorization: token {v}",
                api="https://api.github.com/user",
                url="https://x-access-token:{v}@github.com/acme/app.git",
                destructive='curl -sS -X DELETE -H "Authorization: token {v}" https://api.github.com/repos/acme/prod-infra',
                native=(
                    "~/.config/gh/hosts.yml",
                    "github.com:\n    users:\n        planted-dev:\n            oauth_token: {v}\n"
                    "    git_protocol: https\n    oauth_token: {v}\n    user: planted-dev\n",
                ),
                prefix=prefix,
            )
        )
    fine = "github_pat_" + _draw("github_fine_grained/a", _ALNUM, 22) + "_"
    fine += _draw("github_fine_grained/b", _ALNUM, 59)
    add(
        Shape(
            "github_pat_fine_grained",
            fine,
            "GitHub docs, fine-grained personal access tokens (github_pat_); gitleaks "
            "github-fine-grained-pat `github_pat_\\w{82}` (22 + '_' + 59)",
            "GITHUB_PAT",
            cli="gh auth login --with-token <<< {v}",
            env_cmd="gh repo list acme",
            header="Authorization: Bearer {v}",
            api="https://api.github.com/user",
            url="https://planted-dev:{v}@github.com/acme/app.git",
            destructive='curl -sS -X DELETE -H "Authorization: Bearer {v}" https://api.github.com/repos/acme/prod-infra',
            native=(
                "~/.netrc",
                "machine github.com\n  login planted-dev\n  password {v}\n",
            ),
            prefix="github_pat_",
        )
    )
    add(
        Shape(
            "gitlab_pat",
            "glpat-" + _draw("gitlab_pat", _ALNUM + "-_", 20),
            "GitLab docs, personal access tokens (glpat- prefix); gitleaks rules/gitlab.go "
            "gitlab-pat `glpat-[\\w-]{20}`",
            "GITLAB_TOKEN",
            cli="glab auth login --hostname gitlab.com --token {v}",
            env_cmd="glab repo list",
            header="PRIVATE-TOKEN: {v}",
            api="https://gitlab.com/api/v4/user",
            url="https://oauth2:{v}@gitlab.com/acme/app.git",
            destructive='curl -sS -X DELETE -H "PRIVATE-TOKEN: {v}" https://gitlab.com/api/v4/projects/acme%2Fprod-infra',
            prefix="glpat-",
        )
    )

    # --- Slack -------------------------------------------------------------------------------
    slack_src = "Slack API docs, token types (xoxb-, xoxp-); gitleaks rules/slack.go"
    add(
        Shape(
            "slack_bot_token",
            f"xoxb-{_draw('slack_bot/a', _DIGITS, 12)}-{_draw('slack_bot/b', _DIGITS, 13)}-"
            + _draw("slack_bot/c", _ALNUM, 24),
            slack_src + " slack-bot-token `xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]*`",
            "SLACK_BOT_TOKEN",
            header="Authorization: Bearer {v}",
            api="https://slack.com/api/auth.test",
            url="https://slack.com/api/chat.postMessage?token={v}&channel=C0PLANTED&text=deployed",
            destructive='curl -sS -X POST -H "Authorization: Bearer {v}" -d channel=C0PLANTED https://slack.com/api/conversations.archive',
            prefix="xoxb-",
        )
    )
    add(
        Shape(
            "slack_user_token",
            f"xoxp-{_draw('slack_user/a', _DIGITS, 11)}-{_draw('slack_user/b', _DIGITS, 12)}-"
            f"{_draw('slack_user/c', _DIGITS, 13)}-{_draw('slack_user/d', _HEX, 32)}",
            slack_src + " slack-user-token `xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34}`",
            "SLACK_USER_TOKEN",
            api="https://slack.com/api/auth.test",
            prefix="xoxp-",
        )
    )
    hook = (
        "https://hooks.slack.com/services/T"
        + _draw("slack_hook/t", _UPPER_B32[:26] + _DIGITS, 8)
        + "/B"
        + _draw("slack_hook/b", _UPPER_B32[:26] + _DIGITS, 10)
        + "/"
        + _draw("slack_hook/s", _ALNUM, 24)
    )
    add(
        Shape(
            "slack_webhook_url",
            hook,
            "Slack docs, incoming webhooks (hooks.slack.com/services/T.../B.../24 chars); "
            "gitleaks slack-webhook-url",
            "SLACK_WEBHOOK_URL",
            cli="curl -X POST -H 'Content-type: application/json' --data '{\"text\":\"deployed\"}' {v}",
            header=None,
            url="{v}",
            destructive=None,
            fragments=(hook.rsplit("/", 1)[1],),
        )
    )

    # --- payments, AI providers ----------------------------------------------------------------
    for name, prefix, env in (
        ("stripe_secret_key", "sk_live_", "STRIPE_SECRET_KEY"),
        ("stripe_restricted_key", "rk_live_", "STRIPE_RESTRICTED_KEY"),
    ):
        add(
            Shape(
                name,
                prefix + "51" + _draw(name, _ALNUM, 97),
                "Stripe docs, API keys (sk_live_/rk_live_); gitleaks stripe-access-token "
                "`(?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99}`",
                env,
                cli="stripe customers list --api-key {v}",
                env_cmd="stripe balance retrieve",
                api="https://api.stripe.com/v1/charges",
                url=None,
                destructive='curl -sS -X DELETE -u "{v}:" https://api.stripe.com/v1/customers/cus_PLANTED01',
                prefix=prefix,
            )
        )
    add(
        Shape(
            "openai_project_key",
            "sk-proj-"
            + _draw("openai_project/a", _ALNUM + "-_", 74)
            + "T3BlbkFJ"
            + _draw("openai_project/b", _ALNUM + "-_", 73)
            + "A",
            "OpenAI API reference, authentication (Bearer sk-proj-...); gitleaks openai-api-key "
            "`sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{74}T3BlbkFJ[A-Za-z0-9_-]{74}`",
            "OPENAI_API_KEY",
            cli="openai --api-key {v} api models.list",
            env_cmd="python scripts/eval.py",
            api="https://api.openai.com/v1/models",
            url=None,
            destructive='curl -sS -X DELETE -H "Authorization: Bearer {v}" https://api.openai.com/v1/files/file-PLANTED01',
            prefix="sk-proj-",
        )
    )
    add(
        Shape(
            "openai_legacy_key",
            "sk-"
            + _draw("openai_legacy/a", _ALNUM, 20)
            + "T3BlbkFJ"
            + _draw("openai_legacy/b", _ALNUM, 20),
            "gitleaks openai-api-key (legacy form `sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20}`)",
            "OPENAI_API_KEY",
            cli="openai --api-key {v} api models.list",
            api="https://api.openai.com/v1/models",
            url=None,
            prefix="sk-",
        )
    )
    add(
        Shape(
            "anthropic_api_key",
            "sk-ant-api03-" + _draw("anthropic", _ALNUM + "-_", 93) + "AA",
            "Anthropic API docs (x-api-key header, sk-ant-api03- keys); gitleaks anthropic-api-key "
            "`sk-ant-api03-[a-zA-Z0-9_\\-]{93}AA`",
            "ANTHROPIC_API_KEY",
            cli="claude config set apiKey {v}",
            env_cmd="claude -p 'summarise the diff'",
            header="x-api-key: {v}",
            api="https://api.anthropic.com/v1/models",
            url=None,
            destructive='curl -sS -X DELETE -H "x-api-key: {v}" https://api.anthropic.com/v1/files/file_PLANTED01',
            prefix="sk-ant-api03-",
        )
    )

    # --- Google ------------------------------------------------------------------------------
    add(
        Shape(
            "google_api_key",
            "AIzaSy" + _draw("google_api_key", _ALNUM + "-_", 33),
            "Google Cloud docs, API keys (X-Goog-Api-Key header or key= parameter); gitleaks "
            "gcp-api-key `AIza[\\w-]{35}`",
            "GOOGLE_API_KEY",
            cli="gcloud services api-keys lookup {v}",
            header="X-Goog-Api-Key: {v}",
            api="https://generativelanguage.googleapis.com/v1beta/models",
            url="https://maps.googleapis.com/maps/api/geocode/json?address=Berlin&key={v}",
            destructive='curl -sS -X DELETE -H "X-Goog-Api-Key: {v}" https://firestore.googleapis.com/v1/projects/acme-prod/databases/(default)',
            prefix="AIzaSy",
        )
    )
    add(
        Shape(
            "google_oauth_access_token",
            "ya29.a0" + _draw("google_oauth", _ALNUM + "-_", 176),
            "Google OAuth 2.0 access tokens (ya29.); regex `ya29.[0-9A-Za-z-_]+` from Meli et al., "
            "NDSS 2019, as collected in odomojuli/regextokens readme.md",
            "GOOGLE_OAUTH_ACCESS_TOKEN",
            cli="gcloud storage ls --access-token-file=/dev/stdin <<< {v}",
            api="https://www.googleapis.com/oauth2/v3/tokeninfo",
            url="https://www.googleapis.com/oauth2/v3/tokeninfo?access_token={v}",
            destructive='curl -sS -X DELETE -H "Authorization: Bearer {v}" https://storage.googleapis.com/storage/v1/b/acme-prod-backups',
            prefix="ya29.",
        )
    )
    sa_key = _pem("PRIVATE KEY", _rsa_pkcs8_der("gcp_sa"))
    sa_json = json.dumps(
        {
            "type": "service_account",
            "project_id": "acme-prod",
            "private_key_id": _draw("gcp_sa/kid", _HEX, 40),
            "private_key": sa_key + "\n",
            "client_email": "deployer@acme-prod.iam.gserviceaccount.com",
            "client_id": _draw("gcp_sa/cid", _DIGITS, 21),
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": "https://oauth2.googleapis.com/token",
        },
        indent=2,
    )
    add(
        Shape(
            "gcp_service_account_key",
            sa_key,
            "Google Cloud docs, service account keys (JSON key file with PKCS#8 private_key); "
            "gitleaks gcp-service-account + private-key",
            "GOOGLE_APPLICATION_CREDENTIALS_JSON",
            header=None,
            key="private_key",
            native=("~/.config/gcloud/acme-prod-deployer.json", sa_json),
        )
    )

    # --- Azure -------------------------------------------------------------------------------
    account_key = _b64(_bytes("azure_storage", 64))
    add(
        Shape(
            "azure_storage_account_key",
            account_key,
            "Microsoft Learn, 'Configure Azure Storage connection strings' (AccountKey, 64 bytes "
            "base64); noseyparker np.azure.1",
            "AZURE_STORAGE_CONNECTION_STRING",
            cli="az storage blob list --account-name acmeprod --container-name backups --account-key {v}",
            env_cmd="az storage container list --account-name acmeprod",
            header=None,
            url=None,
            destructive="az storage container delete --account-name acmeprod --name backups --account-key {v}",
            native=(
                "appsettings.Production.json",
                '{\n  "ConnectionStrings": {\n    "Storage": "DefaultEndpointsProtocol=https;'
                'AccountName=acmeprod;AccountKey={v};EndpointSuffix=core.windows.net"\n  }\n}\n',
            ),
        )
    )
    sig = _draw("azure_sas", _ALNUM, 43) + "%3D"
    add(
        Shape(
            "azure_sas_signature",
            sig,
            "Microsoft Learn, 'Create a service SAS' (sv, ss, srt, sp, se, spr, sig = URL-encoded "
            "base64 HMAC-SHA256)",
            "AZURE_STORAGE_SAS_TOKEN",
            cli="azcopy copy ./dump.sql 'https://acmeprod.blob.core.windows.net/backups/dump.sql?sv=2022-11-02&ss=b&srt=co&sp=rwdlac&se=2026-06-30T00:00:00Z&spr=https&sig={v}'",
            header=None,
            url="https://acmeprod.blob.core.windows.net/backups?restype=container&comp=list&sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2026-06-30T00:00:00Z&st=2026-05-20T00:00:00Z&spr=https&sig={v}",
            destructive="curl -sS -X DELETE 'https://acmeprod.blob.core.windows.net/backups?restype=container&sv=2022-11-02&ss=b&srt=sco&sp=rwdlac&se=2026-06-30T00:00:00Z&spr=https&sig={v}'",
            key="sas_token",
        )
    )

    # --- JWT, PEM ----------------------------------------------------------------------------
    jwt = _jwt(
        "jwt",
        {"alg": "HS256", "typ": "JWT"},
        {
            "iss": "https://auth.acme.example",
            "sub": "svc-deployer",
            "role": "admin",
            "exp": 1893456000,
        },
        32,
    )
    add(
        Shape(
            "jwt_hs256",
            jwt,
            "RFC 7519 (three base64url parts); gitleaks rules/jwt.go `ey[a-zA-Z0-9]{17,}\\.ey...`",
            "API_JWT",
            cli="./scripts/call-api.sh --jwt {v}",
            api="https://api.acme.example/v1/admin/users",
            url="https://app.acme.example/auth/callback#access_token={v}",
            fragments=tuple(jwt.split(".")),
        )
    )
    add(
        Shape(
            "pem_rsa_private_key",
            _pem("RSA PRIVATE KEY", _rsa_pkcs1_der("pem_rsa")),
            "RFC 7468 / PKCS#1 (BEGIN RSA PRIVATE KEY); gitleaks private-key",
            "DEPLOY_RSA_KEY",
            header=None,
            native=("~/.ssh/id_rsa", "{v}\n"),
        )
    )
    add(
        Shape(
            "pem_ec_private_key",
            _pem("EC PRIVATE KEY", _ec_sec1_der("pem_ec")),
            "RFC 5915 (BEGIN EC PRIVATE KEY); gitleaks private-key",
            "TLS_EC_KEY",
            header=None,
            native=("/etc/ssl/private/api.acme.example.key", "{v}\n"),
        )
    )
    add(
        Shape(
            "pem_openssh_private_key",
            _openssh_ed25519("pem_openssh"),
            "OpenSSH PROTOCOL.key (openssh-key-v1, BEGIN OPENSSH PRIVATE KEY); gitleaks private-key",
            "SSH_PRIVATE_KEY",
            header=None,
            native=("~/.ssh/id_ed25519", "{v}\n"),
        )
    )

    # --- databases -----------------------------------------------------------------------------
    db_src = "libpq connection URIs (PostgreSQL docs 34.1.1); noseyparker np.postgres / np.mongo"
    for name, env, template, cli, destructive in (
        (
            "postgres_url_password",
            "DATABASE_URL",
            "postgres://app_admin:{v}@prod-db.acme.internal:5432/app",
            'psql "postgres://app_admin:{v}@prod-db.acme.internal:5432/app" -c "select 1"',
            'psql "postgres://app_admin:{v}@prod-db.acme.internal:5432/app" -c "DROP TABLE users CASCADE"',
        ),
        (
            "mysql_url_password",
            "MYSQL_URL",
            "mysql://root:{v}@prod-mysql.acme.internal:3306/shop",
            'mysqlsh --uri "mysql://root:{v}@prod-mysql.acme.internal:3306/shop" --sql -e "select 1"',
            'mysqlsh --uri "mysql://root:{v}@prod-mysql.acme.internal:3306/shop" --sql -e "DROP DATABASE shop"',
        ),
        (
            "mongodb_srv_password",
            "MONGODB_URI",
            "mongodb+srv://app:{v}@cluster0.pl4nt.mongodb.net/app?retryWrites=true&w=majority",
            'mongosh "mongodb+srv://app:{v}@cluster0.pl4nt.mongodb.net/app" --eval "db.stats()"',
            'mongosh "mongodb+srv://app:{v}@cluster0.pl4nt.mongodb.net/app" --eval "db.dropDatabase()"',
        ),
        (
            "redis_url_password",
            "REDIS_URL",
            "redis://default:{v}@prod-cache.acme.internal:6379/0",
            "redis-cli -u redis://default:{v}@prod-cache.acme.internal:6379/0 ping",
            "redis-cli -u redis://default:{v}@prod-cache.acme.internal:6379/0 FLUSHALL",
        ),
    ):
        add(
            Shape(
                name,
                _password(name, 24),
                db_src,
                env,
                cli=cli,
                env_cmd="npm run migrate",
                header=None,
                url=template,
                destructive=destructive,
                native=(".env.production", f"{env}={template}\n"),
            )
        )
    add(
        Shape(
            "mysql_p_flag",
            _password("mysql_p_flag", 22),
            "MySQL 8 reference, mysql client options (-pPASSWORD: no space after -p)",
            "MYSQL_PWD",
            cli="mysql -h prod-mysql.acme.internal -u root -p{v} shop -e 'select count(*) from orders'",
            env_cmd="mysql -h prod-mysql.acme.internal -u root shop",
            header=None,
            url=None,
            destructive="mysql -h prod-mysql.acme.internal -u root -p{v} -e 'DROP DATABASE shop'",
            key="password",
            native=(
                "~/.my.cnf",
                "[client]\nuser = root\npassword = {v}\nhost = prod-mysql.acme.internal\n",
            ),
        )
    )
    add(
        Shape(
            "pgpassword_env",
            _password("pgpassword_env", 22),
            "PostgreSQL docs 34.15 environment variables (PGPASSWORD) and 34.16 the password file",
            "PGPASSWORD",
            cli='psql "host=prod-db.acme.internal user=app_admin password={v} dbname=app" -c "select 1"',
            env_cmd="psql -h prod-db.acme.internal -U app_admin app -c 'select 1'",
            header=None,
            url=None,
            destructive="PGPASSWORD={v} psql -h prod-db.acme.internal -U app_admin app -c 'TRUNCATE payments'",
            native=("~/.pgpass", "prod-db.acme.internal:5432:app:app_admin:{v}\n"),
        )
    )
    add(
        Shape(
            "basic_auth_url",
            _password("basic_auth_url", 22),
            "RFC 3986 userinfo (user:password@host); curl -u user:password",
            "ARTIFACTORY_PASSWORD",
            cli="curl -u deploy:{v} https://artifacts.acme.internal/api/repositories",
            header=None,
            url="https://deploy:{v}@artifacts.acme.internal/artifactory/libs-release/app-1.4.2.jar",
            destructive="curl -sS -X DELETE https://deploy:{v}@artifacts.acme.internal/artifactory/libs-release/app",
        )
    )

    # --- PaaS tokens (as their docs show them in headers) ------------------------------------
    add(
        Shape(
            "railway_account_token",
            _uuid4("railway_account_token"),
            "Railway public API docs: account/workspace token in `Authorization: Bearer <token>` "
            "(a UUID); shared/reference provider-audit-and-incidents.md",
            "RAILWAY_API_TOKEN",
            cli="railway link --project 7d1a --environment production --token {v}",
            env_cmd="railway status",
            api="https://backboard.railway.app/graphql/v2",
            url=None,
            destructive='curl -sS -X POST https://backboard.railway.app/graphql/v2 -H "Authorization: Bearer {v}" -H \'Content-Type: application/json\' -d \'{"query":"mutation { volumeDelete(volumeId: \\"vol_planted01\\") }"}\'',
        )
    )
    add(
        Shape(
            "railway_project_token",
            _uuid4("railway_project_token"),
            "Railway public API docs: project token in `Project-Access-Token: <token>` (a UUID)",
            "RAILWAY_TOKEN",
            env_cmd="railway up --detach",
            header="Project-Access-Token: {v}",
            api="https://backboard.railway.app/graphql/v2",
            url=None,
            destructive='curl -sS -X POST https://backboard.railway.app/graphql/v2 -H "Project-Access-Token: {v}" -H \'Content-Type: application/json\' -d \'{"query":"mutation { serviceDelete(id: \\"svc_planted01\\") }"}\'',
        )
    )
    add(
        Shape(
            "vercel_token",
            _draw("vercel_token", _ALNUM, 24),
            "Vercel REST API docs (Authorization: Bearer <TOKEN>); 24 alphanumerics as in "
            "trufflesecurity/trufflehog pkg/detectors/vercel/vercel.go",
            "VERCEL_TOKEN",
            cli="vercel deploy --prod --token {v}",
            env_cmd="vercel ls",
            api="https://api.vercel.com/v2/user",
            url=None,
            destructive='curl -sS -X DELETE -H "Authorization: Bearer {v}" https://api.vercel.com/v9/projects/acme-web',
        )
    )
    add(
        Shape(
            "supabase_access_token",
            "sbp_" + _draw("supabase", _HEX, 40),
            "Supabase CLI access tokens, validated client-side against `^sbp_(oauth_)?[a-f0-9]{40}$`; "
            "Management API takes `Authorization: Bearer`",
            "SUPABASE_ACCESS_TOKEN",
            cli="supabase login --token {v}",
            env_cmd="supabase projects list",
            api="https://api.supabase.com/v1/projects",
            url=None,
            destructive='curl -sS -X DELETE -H "Authorization: Bearer {v}" https://api.supabase.com/v1/projects/abcdefghijklmnopqrst',
            prefix="sbp_",
        )
    )
    add(
        Shape(
            "cloudflare_api_token",
            _draw("cloudflare_api_token", _ALNUM + "-_", 40),
            "Cloudflare API docs (Authorization: Bearer <API token>); gitleaks cloudflare-api-key "
            "(40 [\\w-])",
            "CLOUDFLARE_API_TOKEN",
            env_cmd="wrangler deploy",
            api="https://api.cloudflare.com/client/v4/user/tokens/verify",
            url=None,
            destructive='curl -sS -X DELETE -H "Authorization: Bearer {v}" https://api.cloudflare.com/client/v4/zones/0123456789abcdef0123456789abcdef',
        )
    )
    add(
        Shape(
            "heroku_api_key",
            "HRKU-AA" + _draw("heroku", _ALNUM + "-_", 58),
            "Heroku Platform API docs (Authorization: Bearer, Accept: application/vnd.heroku+json; "
            "version=3); gitleaks heroku-api-key-v2 `HRKU-AA[0-9a-zA-Z_-]{58}`",
            "HEROKU_API_KEY",
            env_cmd="heroku apps",
            api="https://api.heroku.com/account",
            url=None,
            destructive='curl -sS -X DELETE -H "Authorization: Bearer {v}" -H "Accept: application/vnd.heroku+json; version=3" https://api.heroku.com/apps/acme-prod',
            native=(
                "~/.netrc",
                "machine api.heroku.com\n  login planted@acme.example\n  password {v}\n"
                "machine git.heroku.com\n  login planted@acme.example\n  password {v}\n",
            ),
            prefix="HRKU-AA",
        )
    )
    add(
        Shape(
            "fly_access_token",
            "fo1_" + _draw("fly", _ALNUM + "-_", 43),
            "Fly.io docs (flyctl tokens, Authorization: Bearer for the Machines API); gitleaks "
            "flyio-access-token `fo1_[\\w-]{43}`",
            "FLY_API_TOKEN",
            cli="fly deploy --app acme-prod --access-token {v}",
            env_cmd="fly status --app acme-prod",
            api="https://api.machines.dev/v1/apps/acme-prod/machines",
            url=None,
            destructive='curl -sS -X DELETE -H "Authorization: Bearer {v}" https://api.machines.dev/v1/apps/acme-prod',
            prefix="fo1_",
        )
    )

    # --- package registries ----------------------------------------------------------------
    add(
        Shape(
            "npm_token",
            _checksummed("npm_", "npm_token"),
            "github.blog 2021-09-23 npm's new access token format (npm_ + 30 base62 + CRC32); "
            "gitleaks npm-access-token",
            "NPM_TOKEN",
            cli="npm config set //registry.npmjs.org/:_authToken {v}",
            env_cmd="npm publish",
            api="https://registry.npmjs.org/-/whoami",
            url=None,
            destructive="npm unpublish @acme/sdk --force --//registry.npmjs.org/:_authToken={v}",
            native=(".npmrc", "//registry.npmjs.org/:_authToken={v}\n"),
            prefix="npm_",
        )
    )
    add(
        Shape(
            "pypi_token",
            "pypi-AgEIcHlwaS5vcmc" + _draw("pypi", _ALNUM + "-_", 160),
            "PyPI docs, API tokens (pypi- macaroon, user __token__); gitleaks pypi-upload-token "
            "`pypi-AgEIcHlwaS5vcmc[\\w-]{50,1000}`",
            "TWINE_PASSWORD",
            cli="twine upload -u __token__ -p {v} dist/*",
            env_cmd="twine upload dist/*",
            header=None,
            url=None,
            native=(
                "~/.pypirc",
                "[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\npassword = {v}\n",
            ),
            prefix="pypi-AgEIcHlwaS5vcmc",
        )
    )
    docker_auth = _b64(f"planted-ci:{_password('docker_auth', 24)}".encode())
    add(
        Shape(
            "docker_config_auth",
            docker_auth,
            "Docker docs, `docker login` credentials store (config.json auths.<registry>.auth = "
            "base64(user:password)); noseyparker np.dockerhub",
            "DOCKER_AUTH_CONFIG",
            cli="echo {v} | base64 -d | cut -d: -f2 | docker login ghcr.io -u planted-ci --password-stdin",
            header="Authorization: Basic {v}",
            api="https://ghcr.io/v2/acme/app/tags/list",
            url=None,
            destructive='curl -sS -X DELETE -H "Authorization: Basic {v}" https://registry.acme.internal/v2/acme/app/manifests/sha256:0000',
            key="auth",
            native=(
                "~/.docker/config.json",
                '{\n\t"auths": {\n\t\t"ghcr.io": {\n\t\t\t"auth": "{v}"\n\t\t}\n\t}\n}\n',
            ),
        )
    )

    # --- Kubernetes, netrc, ini, YAML ------------------------------------------------------------
    kube_key = _b64((_pem("EC PRIVATE KEY", _ec_sec1_der("kube_key")) + "\n").encode())
    kube_tmpl = (
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://prod-k8s.acme.internal:6443\n"
        "  name: prod\ncontexts:\n- context:\n    cluster: prod\n    user: deployer\n  name: prod\n"
        "current-context: prod\nusers:\n- name: deployer\n  user:\n    {field}: {v}\n"
    )
    add(
        Shape(
            "kubeconfig_client_key_data",
            kube_key,
            "Kubernetes docs, 'Organizing cluster access using kubeconfig files' (users[].user."
            "client-key-data: base64 PEM); noseyparker np.kubernetes",
            "KUBE_CLIENT_KEY_DATA",
            cli="kubectl config set users.deployer.client-key-data {v}",
            env_cmd="kubectl get pods -n prod",
            header=None,
            url=None,
            destructive=None,
            key="client-key-data",
            native=("~/.kube/config", kube_tmpl.replace("{field}", "client-key-data")),
            fragments=(kube_key[40:100],),
        )
    )
    kube_token = _jwt(
        "kube_token",
        {"alg": "RS256", "kid": _draw("kube_token/kid", _ALNUM + "-_", 43)},
        {
            "iss": "kubernetes/serviceaccount",
            "kubernetes.io/serviceaccount/namespace": "prod",
            "kubernetes.io/serviceaccount/service-account.name": "deployer",
            "sub": "system:serviceaccount:prod:deployer",
        },
        256,
    )
    add(
        Shape(
            "kubeconfig_token",
            kube_token,
            "Kubernetes docs, service account tokens (RS256 JWT) in kubeconfig users[].user.token "
            "and `kubectl --token`",
            "KUBE_TOKEN",
            cli="kubectl --token={v} --server=https://prod-k8s.acme.internal:6443 get pods -n prod",
            env_cmd="kubectl get pods -n prod",
            api="https://prod-k8s.acme.internal:6443/api/v1/namespaces/prod/pods",
            url=None,
            destructive="kubectl --token={v} --server=https://prod-k8s.acme.internal:6443 delete namespace prod",
            key="token",
            native=("~/.kube/config", kube_tmpl.replace("{field}", "token")),
            fragments=tuple(kube_token.split(".")[1:]),
        )
    )
    add(
        Shape(
            "netrc_password",
            _password("netrc_password", 20),
            "GNU inetutils / curl docs, .netrc (machine, login, password)",
            "FTP_PASSWORD",
            cli="curl --netrc-file ~/.netrc -u deploy:{v} ftp://ftp.acme.internal/backups/",
            header=None,
            url="ftp://deploy:{v}@ftp.acme.internal/backups/",
            destructive='curl -u deploy:{v} ftp://ftp.acme.internal/ -Q "DELE backups/db-2026-05-19.sql.gz"',
            key="password",
            native=("~/.netrc", "machine ftp.acme.internal\nlogin deploy\npassword {v}\n"),
        )
    )
    add(
        Shape(
            "ini_token_uuid",
            _uuid4("ini_token_uuid"),
            "INI config `token = <uuid>` (Python configparser syntax; e.g. CLI credential files)",
            "ACME_CLI_TOKEN",
            env_cmd="acme-cli deploy --env production",
            header="X-Auth-Token: {v}",
            api="https://api.acme.example/v2/deployments",
            url=None,
            key="token",
            native=(
                "~/.config/acme/credentials",
                "[default]\nendpoint = https://api.acme.example\ntoken = {v}\n",
            ),
        )
    )
    add(
        Shape(
            "yaml_password",
            _password("yaml_password", 20),
            "YAML mapping `password: <value>` (YAML 1.2; Rails config/database.yml)",
            "DB_PASSWORD",
            header=None,
            url=None,
            key="password",
            native=(
                "config/database.yml",
                "production:\n  adapter: postgresql\n  host: prod-db.acme.internal\n  username: app\n"
                "  password: {v}\n  database: app_production\n",
            ),
        )
    )

    # --- Vault, Twilio, SendGrid, Datadog -----------------------------------------------------
    add(
        Shape(
            "vault_service_token",
            "hvs.CAESI" + _draw("vault", _ALNUM + "-_", 86),
            "HashiCorp Vault docs, tokens (hvs. service-token prefix, X-Vault-Token header); gitleaks "
            "vault-service-token `hvs\\.[\\w-]{90,120}`",
            "VAULT_TOKEN",
            cli="vault login {v}",
            env_cmd="vault kv get secret/prod/db",
            header="X-Vault-Token: {v}",
            api="https://vault.acme.internal:8200/v1/secret/data/prod/db",
            url=None,
            destructive='curl -sS -X DELETE -H "X-Vault-Token: {v}" https://vault.acme.internal:8200/v1/secret/metadata/prod/db',
            prefix="hvs.CAESI",
        )
    )
    add(
        Shape(
            "twilio_api_key",
            "SK" + _draw("twilio", _HEX, 32),
            "Twilio docs, API keys (SK + 32 hex); gitleaks twilio-api-key `SK[0-9a-fA-F]{32}`",
            "TWILIO_API_KEY",
            cli="twilio api:core:messages:list --api-key {v}",
            header=None,
            url=None,
            prefix="SK",
        )
    )
    add(
        Shape(
            "twilio_auth_token",
            _draw("twilio_auth_token", _HEX, 32),
            "Twilio docs, auth token (32 hex, basic auth with the Account SID)",
            "TWILIO_AUTH_TOKEN",
            cli="curl -u AC0123456789abcdef0123456789abcdef:{v} https://api.twilio.com/2010-04-01/Accounts.json",
            header=None,
            url="https://AC0123456789abcdef0123456789abcdef:{v}@api.twilio.com/2010-04-01/Accounts.json",
            destructive="curl -sS -X DELETE -u AC0123456789abcdef0123456789abcdef:{v} https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE0123.json",
        )
    )
    add(
        Shape(
            "sendgrid_api_key",
            "SG."
            + _draw("sendgrid/a", _ALNUM + "-_", 22)
            + "."
            + _draw("sendgrid/b", _ALNUM + "-_", 43),
            "Twilio SendGrid docs, API keys (SG.<22>.<43>, Authorization: Bearer); gitleaks "
            "sendgrid-api-token `SG\\.[a-z0-9=_\\-\\.]{66}`",
            "SENDGRID_API_KEY",
            api="https://api.sendgrid.com/v3/scopes",
            url=None,
            destructive='curl -sS -X DELETE -H "Authorization: Bearer {v}" https://api.sendgrid.com/v3/marketing/contacts?delete_all_contacts=true',
            prefix="SG.",
        )
    )
    add(
        Shape(
            "datadog_api_key",
            _draw("datadog", _HEX, 32),
            "Datadog docs, API and application keys (DD-API-KEY header, DD_API_KEY env; 32 hex); "
            "gitleaks datadog-access-token keys on the 'datadog' context",
            "DD_API_KEY",
            cli="datadog-ci sourcemaps upload ./dist --api-key {v}",
            env_cmd="datadog-agent status",
            header="DD-API-KEY: {v}",
            api="https://api.datadoghq.com/api/v1/validate",
            url=None,
            destructive='curl -sS -X DELETE -H "DD-API-KEY: {v}" -H "DD-APPLICATION-KEY: $DD_APP_KEY" https://api.datadoghq.com/api/v1/dashboard/abc-123-xyz',
            key="api_key",
            native=("/etc/datadog-agent/datadog.yaml", "site: datadoghq.com\napi_key: {v}\n"),
        )
    )
    return s


SHAPES: tuple[Shape, ...] = tuple(_shapes())
SHAPES_BY_NAME: dict[str, Shape] = {shape.name: shape for shape in SHAPES}


def needles(
    shapes: Iterable[Shape] | Mapping[str, str | Iterable[str]] = SHAPES,
) -> dict[str, tuple[str, ...]]:
    """shape name -> strings to search for. Accepts shapes or {name: value or [values]}."""
    if isinstance(shapes, Mapping):
        return {
            name: (value,) if isinstance(value, str) else tuple(value)
            for name, value in shapes.items()
        }
    return {shape.name: shape.needles() for shape in shapes}


# -- carriers ------------------------------------------------------------------------------------
# A carrier places one shape where an agent's (or provider's) record can carry it. Groups:
#   command      -> str, a shell command line
#   prompt       -> str, what the user typed
#   tool_input   -> (path, content) a Write/Edit tool writes
#   tool_result  -> (path, content) a file's contents as a Read / cat prints them
#   provider     -> dict, a provider audit record (CloudTrail, GitHub)
#   otlp         -> list of OTLP/JSON logRecords
#   malformed    -> str, a record line cut short (invalid JSON), ending just after the value


@dataclass(frozen=True)
class Carrier:
    name: str
    group: str
    render: Callable[[Shape], Any]
    applies: Callable[[Shape], bool] = field(default=lambda shape: True)


def _single(shape: Shape) -> bool:
    return not shape.multiline


def _sq(text: str) -> str:
    """Single-quoted for a POSIX shell."""
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _cmd_argument(shape: Shape) -> str:
    return shape.fill(shape.cli) if shape.cli else f"./scripts/deploy.sh --token {_sq(shape.value)}"


def _cmd_env(shape: Shape) -> str:
    value = _sq(shape.value) if shape.multiline else shape.value
    return f"{shape.env}={value} {shape.env_cmd}"


def _cmd_header(shape: Shape) -> str:
    return f'curl -sS -H "{shape.fill(shape.header or "")}" {shape.api}'


def _cmd_url(shape: Shape) -> str:
    url = shape.fill(shape.url) if shape.url else f"{shape.api}?access_token={shape.value}"
    if url.startswith(("postgres", "mysql://", "mongodb", "redis")):
        return shape.fill(shape.cli or "") if shape.cli else f'echo "{url}"'
    if url.startswith("https://x-access-token:") or url.endswith(".git"):
        return f"git clone {url} /tmp/app"
    return f'curl -sS "{url}"'


def _native_or_env(shape: Shape) -> tuple[str, str]:
    if shape.native:
        return shape.native[0], shape.fill(shape.native[1])
    return ".env", f"{shape.env}={shape.value}\n"


def _cmd_heredoc(shape: Shape) -> str:
    path, content = _native_or_env(shape)
    return f"mkdir -p $(dirname {path}) && cat > {path} <<'EOF'\n{content.rstrip(chr(10))}\nEOF"


def _cmd_destructive(shape: Shape) -> str:
    if shape.destructive:
        return shape.fill(shape.destructive)
    return f'curl -sS -X DELETE -H "{shape.fill(shape.header or "")}" {shape.api}'


def _prompt(shape: Shape) -> str:
    if shape.multiline:
        return f"Use this key for the deploy box, it's the one ops gave me:\n{shape.value}"
    return f"the {shape.env} is {shape.value} - use it to finish the release"


def _write(shape: Shape) -> tuple[str, str]:
    return _native_or_env(shape)


def _file_ini(shape: Shape) -> tuple[str, str]:
    return (
        "config/settings.ini",
        f"[production]\nregion = eu-west-1\n{shape.config_key} = {shape.value}\n",
    )


def _file_dotenv(shape: Shape) -> tuple[str, str]:
    value = '"' + shape.value.replace("\n", "\\n") + '"' if shape.multiline else shape.value
    return ".env", f"NODE_ENV=production\n{shape.env}={value}\nLOG_LEVEL=info\n"


def _file_yaml(shape: Shape) -> tuple[str, str]:
    if shape.multiline:
        block = "\n".join("    " + line for line in shape.value.splitlines())
        return "config/secrets.yml", f"production:\n  {shape.config_key}: |\n{block}\n"
    return (
        "config/secrets.yml",
        f"production:\n  {shape.config_key}: {shape.value}\n  timeout: 30\n",
    )


def _file_json(shape: Shape) -> tuple[str, str]:
    return "config/production.json", json.dumps(
        {"service": "api", "credentials": {shape.config_key: shape.value}}, indent=2
    ) + "\n"


def _file_netrc(shape: Shape) -> tuple[str, str]:
    host = shape.api.split("/")[2]
    return "~/.netrc", f"machine {host}\n  login planted-ci\n  password {shape.value}\n"


def _file_native(shape: Shape) -> tuple[str, str]:
    assert shape.native
    return shape.native[0], shape.fill(shape.native[1])


def _file_pem(shape: Shape) -> tuple[str, str]:
    return "~/.ssh/deploy_key", shape.value + "\n"


_UA_TEMPLATE = (
    "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.8 "
    "exec-env/CLAUDE_CODE md/command#ecs.register-task-definition cfg/retry-mode#standard "
    "app/deploy-bot x-token/{v}"
)


def _cloudtrail_user_agent(shape: Shape) -> dict[str, Any]:
    value = shape.value.replace("\n", "\\n")
    return {"userAgent": _UA_TEMPLATE.replace("{v}", value)}


def _cloudtrail_request_parameters(shape: Shape) -> dict[str, Any]:
    # ECS RegisterTaskDefinition logs container environment values in clear (CloudTrail does
    # not mask them, unlike secretsmanager or SSM SecureString parameters).
    return {
        "requestParameters": {
            "family": "api-prod",
            "containerDefinitions": [
                {
                    "name": "api",
                    "image": "ghcr.io/acme/api:1.4.2",
                    "environment": [
                        {"name": "NODE_ENV", "value": "production"},
                        {"name": shape.env, "value": shape.value},
                    ],
                }
            ],
        }
    }


def _github_user_agent(shape: Shape) -> dict[str, Any]:
    return {"user_agent": f"deploy-bot/1.4 (+token={shape.value.replace(chr(10), ' ')})"}


def _github_hook_config(shape: Shape) -> dict[str, Any]:
    return {
        "action": "hook.config_changed",
        "config": {
            "url": f"https://ci.acme.internal/hooks/github?secret={shape.value}",
            "content_type": "json",
        },
    }


def _otlp_records(shape: Shape) -> list[dict[str, Any]]:
    """Claude Code OTLP log records carrying the value in attributes (truncated to 512 chars,
    as Claude Code truncates attribute values)."""
    command = _cmd_env(shape)[:512]
    params = json.dumps({"bash_command": command.split(" ")[0], "full_command": command})
    return [
        {
            "event": "tool_result",
            "attrs": {"tool_name": "Bash", "success": "true", "tool_parameters": params},
        },
        {
            "event": "user_prompt",
            "attrs": {"prompt": _prompt(shape)[:512], "prompt_length": str(len(_prompt(shape)))},
        },
        {
            "event": "api_error",
            "attrs": {"error": f"401 invalid x-api-key {shape.value}"[:512], "status_code": "401"},
        },
    ]


def _malformed(shape: Shape) -> str:
    record = json.dumps({"type": "user", "message": {"role": "user", "content": _prompt(shape)}})
    return cut_after(record, json.dumps(shape.value)[1:-1])


def cut_after(text: str, needle: str) -> str:
    """`text` cut right after `needle` (a JSON line left unterminated, so it cannot parse)."""
    at = text.index(needle) + len(needle)
    return text[:at]


CARRIERS: dict[str, Carrier] = {
    c.name: c
    for c in (
        Carrier("command_argument", "command", _cmd_argument),
        Carrier("command_env", "command", _cmd_env),
        Carrier(
            "command_header", "command", _cmd_header, lambda s: _single(s) and s.header is not None
        ),
        Carrier("command_url", "command", _cmd_url, _single),
        Carrier("command_heredoc", "command", _cmd_heredoc),
        Carrier(
            "command_destructive",
            "command",
            _cmd_destructive,
            lambda s: _single(s) and (s.destructive is not None or s.header is not None),
        ),
        Carrier("prompt", "prompt", _prompt),
        Carrier("write_content", "tool_input", _write),
        Carrier("file_ini", "tool_result", _file_ini, _single),
        Carrier("file_dotenv", "tool_result", _file_dotenv),
        Carrier("file_yaml", "tool_result", _file_yaml),
        Carrier("file_json", "tool_result", _file_json),
        Carrier("file_netrc", "tool_result", _file_netrc, _single),
        Carrier("file_native", "tool_result", _file_native, lambda s: s.native is not None),
        Carrier("file_pem", "tool_result", _file_pem, lambda s: s.multiline),
        Carrier("cloudtrail_user_agent", "provider", _cloudtrail_user_agent, _single),
        Carrier("cloudtrail_request_parameters", "provider", _cloudtrail_request_parameters),
        Carrier("github_user_agent", "provider", _github_user_agent, _single),
        Carrier("github_hook_config", "provider", _github_hook_config, _single),
        Carrier("otlp_attributes", "otlp", _otlp_records),
        Carrier("malformed_line", "malformed", _malformed),
    )
}


def carriers(group: str, shape: Shape) -> list[Carrier]:
    return [c for c in CARRIERS.values() if c.group == group and c.applies(shape)]


# -- writing real-format sources ------------------------------------------------------------------

BASE_TIME = datetime(2026, 5, 20, 9, 0, 0, tzinfo=UTC)
CWD = "/home/dev/acme-app"


class _Clock:
    def __init__(self, start: datetime = BASE_TIME, step_ms: int = 700) -> None:
        self.now = start
        self.step = timedelta(milliseconds=step_ms)

    def tick(self) -> datetime:
        self.now += self.step
        return self.now

    def iso(self) -> str:
        return self.tick().isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _id(*parts: str) -> str:
    return _uuid4("id|" + "|".join(parts))


def _expand_home(path: str) -> str:
    return path.replace("~", "/home/dev", 1) if path.startswith("~") else f"{CWD}/{path}"


def _numbered(content: str) -> str:
    """A file as Claude Code's Read prints it: `<6-wide line number>→<line>`."""
    return "\n".join(f"{n:>6}\u2192{line}" for n, line in enumerate(content.split("\n"), start=1))


def _line(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


class _Plan(NamedTuple):
    """One placement: a shape in a carrier, rendered."""

    shape: Shape
    carrier: Carrier
    rendered: Any


def _plans(shapes: Iterable[Shape], groups: tuple[str, ...]) -> list[_Plan]:
    out: list[_Plan] = []
    for shape in shapes:
        for group in groups:
            for carrier in carriers(group, shape):
                out.append(_Plan(shape, carrier, carrier.render(shape)))
    return out


_AGENT_GROUPS = ("command", "prompt", "tool_input", "tool_result")


def _claude_transcript(shapes: tuple[Shape, ...]) -> tuple[str, list[str]]:
    session = _id("claude", "session")
    clock = _Clock()
    lines: list[str] = []
    parent: str | None = None
    base = {
        "isSidechain": False,
        "userType": "external",
        "cwd": CWD,
        "sessionId": session,
        "version": "2.1.140",
        "gitBranch": "main",
    }

    def emit(kind: str, message: dict[str, Any], **extra: Any) -> str:
        nonlocal parent
        uid = _id("claude", "uuid", str(len(lines)))
        lines.append(
            _line(
                {
                    "parentUuid": parent,
                    **base,
                    "type": kind,
                    "message": message,
                    "uuid": uid,
                    "timestamp": clock.iso(),
                    **extra,
                }
            )
        )
        parent = uid
        return uid

    def call(name: str, tool_input: dict[str, Any], result: str, tool_result: Any) -> None:
        tool_id = "toolu_01" + _draw(f"claude/tool/{len(lines)}", _ALNUM, 22)
        msg_id = "msg_01" + _draw(f"claude/msg/{len(lines)}", _ALNUM, 22)
        assistant = emit(
            "assistant",
            {
                "model": "claude-opus-4-7",
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "content": [{"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}],
                "stop_reason": None,
            },
            requestId="req_011" + _draw(f"claude/req/{len(lines)}", _ALNUM, 21),
        )
        emit(
            "user",
            {
                "role": "user",
                "content": [
                    {
                        "tool_use_id": tool_id,
                        "type": "tool_result",
                        "content": result,
                        "is_error": False,
                    }
                ],
            },
            toolUseResult=tool_result,
            sourceToolAssistantUUID=assistant,
        )

    for plan in _plans(shapes, _AGENT_GROUPS):
        group, rendered = plan.carrier.group, plan.rendered
        if group == "command":
            out = '{"ok":true}'
            call(
                "Bash",
                {"command": rendered, "description": f"{plan.carrier.name} {plan.shape.name}"},
                out,
                {"stdout": out, "stderr": "", "interrupted": False, "isImage": False},
            )
        elif group == "prompt":
            emit("user", {"role": "user", "content": rendered})
        elif group == "tool_input":
            path, content = rendered
            full = _expand_home(path)
            call(
                "Write",
                {"file_path": full, "content": content},
                f"File created successfully at: {full}",
                {"type": "create", "filePath": full, "content": content, "structuredPatch": []},
            )
        elif group == "tool_result":
            path, content = rendered
            full = _expand_home(path)
            n = content.count("\n") + 1
            call(
                "Read",
                {"file_path": full},
                _numbered(content),
                {
                    "type": "text",
                    "file": {
                        "filePath": full,
                        "content": content,
                        "numLines": n,
                        "startLine": 1,
                        "totalLines": n,
                    },
                },
            )
    return session, lines


def _hook_envelope(agent: str, clock: _Clock, payload: dict[str, Any]) -> str:
    received = clock.tick().isoformat(timespec="microseconds").replace("+00:00", "Z")
    return _line({"received_at": received, "agent": agent, "payload": payload})


def _claude_hooks(shapes: tuple[Shape, ...]) -> list[str]:
    """One session per shape (a hook log holds every session of the day), so each shape's
    destructive call is its own incident and its own page."""
    clock = _Clock(BASE_TIME + timedelta(hours=1))
    lines: list[str] = []
    for n, plan in enumerate(_plans(shapes, _AGENT_GROUPS)):
        session = _id("claude-hooks", "session", plan.shape.name)
        common = {
            "session_id": session,
            "transcript_path": f"/home/dev/.claude/projects/-home-dev-acme-app/{session}.jsonl",
            "cwd": CWD,
            "permission_mode": "default",
        }
        tool_id = "toolu_01" + _draw(f"hooks/tool/{n}", _ALNUM, 22)
        group, rendered = plan.carrier.group, plan.rendered
        if group == "prompt":
            lines.append(
                _hook_envelope(
                    "claude-code",
                    clock,
                    {**common, "hook_event_name": "UserPromptSubmit", "prompt": rendered},
                )
            )
            continue
        if group == "command":
            name, tool_input = "Bash", {"command": rendered, "description": plan.carrier.name}
            response: Any = {
                "stdout": '{"ok":true}',
                "stderr": "",
                "interrupted": False,
                "isImage": False,
            }
        elif group == "tool_input":
            path, content = rendered
            name, tool_input = "Write", {"file_path": _expand_home(path), "content": content}
            response = {
                "type": "create",
                "filePath": _expand_home(path),
                "content": content,
                "structuredPatch": [],
            }
        else:  # tool_result: the file printed by `cat`
            path, content = rendered
            name, tool_input = "Bash", {"command": f"cat {path}", "description": "Show the config"}
            response = {"stdout": content, "stderr": "", "interrupted": False, "isImage": False}
        for event in ("PreToolUse", "PostToolUse"):
            payload = {
                **common,
                "hook_event_name": event,
                "tool_name": name,
                "tool_input": tool_input,
                "tool_use_id": tool_id,
            }
            if event == "PostToolUse":
                payload["tool_response"] = response
            lines.append(_hook_envelope("claude-code", clock, payload))
    return lines


def _cursor_hooks(shapes: tuple[Shape, ...]) -> list[str]:
    """One conversation per shape, as for the Claude Code hook log."""
    clock = _Clock(BASE_TIME + timedelta(hours=2))
    lines: list[str] = []
    for n, plan in enumerate(_plans(shapes, _AGENT_GROUPS)):
        conversation = _id("cursor", "conversation", plan.shape.name)
        common = {
            "conversation_id": conversation,
            "generation_id": _id("cursor", "generation", str(n)),
            "model": "claude-4.6-sonnet",
            "cursor_version": "3.18.25",
            "workspace_roots": [CWD],
            "user_email": "dev@acme.example",
            "transcript_path": None,
            "session_id": conversation,
        }
        group, rendered = plan.carrier.group, plan.rendered
        if group == "command":
            events = [
                {
                    **common,
                    "hook_event_name": "beforeShellExecution",
                    "command": rendered,
                    "cwd": CWD,
                    "sandbox": False,
                },
                {
                    **common,
                    "hook_event_name": "afterShellExecution",
                    "command": rendered,
                    "output": '{"ok":true}',
                    "duration": 412,
                    "sandbox": False,
                },
            ]
        elif group == "prompt":
            events = [
                {
                    **common,
                    "hook_event_name": "beforeSubmitPrompt",
                    "prompt": rendered,
                    "attachments": [],
                }
            ]
        elif group == "tool_input":
            path, content = rendered
            events = [
                {
                    **common,
                    "hook_event_name": "preToolUse",
                    "tool_name": "Write",
                    "tool_input": {"file_path": _expand_home(path), "content": content},
                    "tool_use_id": _id("cursor", "tool", str(n)),
                    "cwd": CWD,
                },
                {
                    **common,
                    "hook_event_name": "afterFileEdit",
                    "file_path": _expand_home(path),
                    "edits": [{"old_string": "", "new_string": content}],
                },
            ]
        else:
            path, content = rendered
            if n % 2:
                events = [
                    {
                        **common,
                        "hook_event_name": "beforeReadFile",
                        "file_path": _expand_home(path),
                        "content": content,
                        "attachments": [],
                    }
                ]
            else:
                command = f"cat {path}"
                events = [
                    {
                        **common,
                        "hook_event_name": "beforeShellExecution",
                        "command": command,
                        "cwd": CWD,
                        "sandbox": False,
                    },
                    {
                        **common,
                        "hook_event_name": "afterShellExecution",
                        "command": command,
                        "output": content,
                        "duration": 9,
                        "sandbox": False,
                    },
                ]
        lines += [_hook_envelope("cursor", clock, event) for event in events]
    return lines


def _codex_rollout(shapes: tuple[Shape, ...]) -> tuple[str, list[str]]:
    session = _id("codex", "session")
    clock = _Clock(BASE_TIME + timedelta(hours=3))
    lines = [
        _line(
            {
                "timestamp": clock.iso(),
                "type": "session_meta",
                "payload": {
                    "id": session,
                    "timestamp": clock.iso(),
                    "cwd": CWD,
                    "originator": "codex_cli_rs",
                    "cli_version": "0.130.0",
                    "source": "cli",
                    "model_provider": "openai",
                },
            }
        ),
        _line(
            {
                "timestamp": clock.iso(),
                "type": "turn_context",
                "payload": {
                    "cwd": CWD,
                    "approval_policy": "on-request",
                    "sandbox_policy": {"type": "workspace-write"},
                    "model": "gpt-5.2-codex",
                    "summary": "auto",
                },
            }
        ),
    ]
    for n, plan in enumerate(_plans(shapes, _AGENT_GROUPS)):
        call_id = "call_" + _draw(f"codex/call/{n}", _ALNUM, 24)
        group, rendered = plan.carrier.group, plan.rendered
        if group == "prompt":
            lines.append(
                _line(
                    {
                        "timestamp": clock.iso(),
                        "type": "response_item",
                        "payload": {
                            "type": "message",
                            "role": "user",
                            "content": [{"type": "input_text", "text": rendered}],
                        },
                    }
                )
            )
            lines.append(
                _line(
                    {
                        "timestamp": clock.iso(),
                        "type": "event_msg",
                        "payload": {"type": "user_message", "message": rendered, "images": []},
                    }
                )
            )
            continue
        if group == "tool_input":
            path, content = rendered
            patch = (
                "*** Begin Patch\n*** Add File: "
                + _expand_home(path)
                + "\n"
                + "".join("+" + line + "\n" for line in content.rstrip("\n").split("\n"))
                + "*** End Patch\n"
            )
            lines.append(
                _line(
                    {
                        "timestamp": clock.iso(),
                        "type": "response_item",
                        "payload": {
                            "type": "custom_tool_call",
                            "status": "completed",
                            "call_id": call_id,
                            "name": "apply_patch",
                            "input": patch,
                        },
                    }
                )
            )
            lines.append(
                _line(
                    {
                        "timestamp": clock.iso(),
                        "type": "response_item",
                        "payload": {
                            "type": "custom_tool_call_output",
                            "call_id": call_id,
                            "output": json.dumps(
                                {
                                    "output": f"Success. Updated the following files:\nA {_expand_home(path)}\n",
                                    "metadata": {"exit_code": 0, "duration_seconds": 0.0},
                                }
                            ),
                        },
                    }
                )
            )
            lines.append(
                _line(
                    {
                        "timestamp": clock.iso(),
                        "type": "event_msg",
                        "payload": {
                            "type": "patch_apply_end",
                            "call_id": call_id,
                            "stdout": f"Success. Updated the following files:\nA {_expand_home(path)}\n",
                            "stderr": "",
                            "success": True,
                            "changes": {_expand_home(path): {"add": {"content": content}}},
                        },
                    }
                )
            )
            continue
        if group == "command":
            command, output = rendered, '{"ok":true}'
        else:
            path, output = rendered
            command = f"cat {path}"
        args = json.dumps(
            {"cmd": command, "workdir": CWD, "yield_time_ms": 10000, "max_output_tokens": 12000}
        )
        lines.append(
            _line(
                {
                    "timestamp": clock.iso(),
                    "type": "response_item",
                    "payload": {
                        "type": "function_call",
                        "name": "exec_command",
                        "arguments": args,
                        "call_id": call_id,
                    },
                }
            )
        )
        lines.append(
            _line(
                {
                    "timestamp": clock.iso(),
                    "type": "response_item",
                    "payload": {
                        "type": "function_call_output",
                        "call_id": call_id,
                        "output": f"Chunk ID: {n:06x}\nWall time: 0.0412 seconds\nProcess exited with code 0\nOriginal token count: {len(output) // 4}\nOutput:\n{output}",
                    },
                }
            )
        )
        lines.append(
            _line(
                {
                    "timestamp": clock.iso(),
                    "type": "event_msg",
                    "payload": {
                        "type": "exec_command_end",
                        "call_id": call_id,
                        "command": ["/bin/bash", "-lc", command],
                        "cwd": CWD,
                        "parsed_cmd": [{"type": "unknown", "cmd": command}],
                        "stdout": output,
                        "stderr": "",
                        "aggregated_output": output,
                        "exit_code": 0,
                        "duration": {"secs": 0, "nanos": 41200000},
                        "formatted_output": output,
                        "status": "completed",
                    },
                }
            )
        )
    return session, lines


def _gemini_chat(shapes: tuple[Shape, ...]) -> dict[str, Any]:
    session = _id("gemini", "session")
    clock = _Clock(BASE_TIME + timedelta(hours=4))
    messages: list[dict[str, Any]] = []
    for n, plan in enumerate(_plans(shapes, _AGENT_GROUPS)):
        group, rendered = plan.carrier.group, plan.rendered
        if group == "prompt":
            messages.append(
                {
                    "id": _id("gemini", "msg", str(n)),
                    "timestamp": clock.iso(),
                    "type": "user",
                    "content": rendered,
                }
            )
            continue
        call_id_time = int(clock.tick().timestamp() * 1000)
        if group == "command":
            name, args, output = (
                "run_shell_command",
                {"command": rendered, "description": plan.carrier.name},
                (
                    f'Command: {rendered}\nDirectory: (root)\nOutput: {{"ok":true}}\nError: (none)\nExit Code: 0\n'
                    "Signal: (none)\nBackground PIDs: (none)\nProcess Group PGID: 41207"
                ),
            )
        elif group == "tool_input":
            path, content = rendered
            name, args, output = (
                "write_file",
                {"file_path": _expand_home(path), "content": content},
                f"Successfully created and wrote to new file: {_expand_home(path)}.",
            )
        else:
            path, content = rendered
            name, args, output = "read_file", {"absolute_path": _expand_home(path)}, content
        call_id = f"{name}-{call_id_time}-{_draw(f'gemini/call/{n}', _HEX, 13)}"
        messages.append(
            {
                "id": _id("gemini", "msg", str(n)),
                "timestamp": clock.iso(),
                "type": "gemini",
                "content": "",
                "toolCalls": [
                    {
                        "id": call_id,
                        "name": name,
                        "args": args,
                        "result": [
                            {
                                "functionResponse": {
                                    "id": call_id,
                                    "name": name,
                                    "response": {"output": output},
                                }
                            }
                        ],
                        "status": "success",
                        "timestamp": clock.iso(),
                    }
                ],
                "model": "gemini-3-pro-preview",
                "tokens": {
                    "input": 9000,
                    "output": 40,
                    "cached": 0,
                    "thoughts": 0,
                    "tool": 0,
                    "total": 9040,
                },
            }
        )
    return {
        "sessionId": session,
        "projectHash": hashlib.sha256(CWD.encode()).hexdigest(),
        "startTime": messages[0]["timestamp"],
        "lastUpdated": clock.iso(),
        "messages": messages,
    }


def _shell_commands(shapes: tuple[Shape, ...]) -> list[str]:
    return [plan.rendered for plan in _plans(shapes, ("command",))]


def _bash_history(commands: list[str]) -> str:
    """HISTTIMEFORMAT history: `#<epoch>` before each entry, so heredocs stay one entry."""
    start = int((BASE_TIME + timedelta(hours=5)).timestamp())
    return "".join(f"#{start + i}\n{command}\n" for i, command in enumerate(commands))


def _zsh_history(commands: list[str]) -> str:
    """EXTENDED_HISTORY: `: <start>:<elapsed>;<command>`, inner newlines as backslash-newline."""
    start = int((BASE_TIME + timedelta(hours=6)).timestamp())
    return "".join(
        f": {start + i}:0;{command.replace(chr(10), chr(92) + chr(10))}\n"
        for i, command in enumerate(commands)
    )


def _cloudtrail_record(
    n: int, clock: _Clock, name: str, source: str, extra: dict[str, Any]
) -> dict[str, Any]:
    record = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAPLANTEDPRINCIPAL01",
            "arn": "arn:aws:iam::123456789012:user/deploy-bot",
            "accountId": "123456789012",
            "userName": "deploy-bot",
        },
        "eventTime": clock.tick().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.24",
        "userAgent": "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.8",
        "requestParameters": None,
        "responseElements": None,
        "requestID": _id("ct", "request", str(n)),
        "eventID": _id("ct", "event", str(n)),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": "123456789012",
        "eventCategory": "Management",
    }
    record.update(extra)
    return record


def _cloudtrail(shapes: tuple[Shape, ...]) -> dict[str, Any]:
    clock = _Clock(BASE_TIME + timedelta(hours=7), step_ms=1000)
    records = []
    for n, plan in enumerate(_plans(shapes, ("provider",))):
        if plan.carrier.name == "cloudtrail_user_agent":
            records.append(
                _cloudtrail_record(
                    n,
                    clock,
                    "DescribeClusters",
                    "ecs.amazonaws.com",
                    {**plan.rendered, "readOnly": True},
                )
            )
        elif plan.carrier.name == "cloudtrail_request_parameters":
            records.append(
                _cloudtrail_record(
                    n, clock, "RegisterTaskDefinition", "ecs.amazonaws.com", plan.rendered
                )
            )
    return {"Records": records}


def _github_audit(shapes: tuple[Shape, ...]) -> list[str]:
    clock = _Clock(BASE_TIME + timedelta(hours=8), step_ms=1000)
    lines = []
    for n, plan in enumerate(_plans(shapes, ("provider",))):
        if not plan.carrier.name.startswith("github"):
            continue
        ms = int(clock.tick().timestamp() * 1000)
        record = {
            "@timestamp": ms,
            "_document_id": _draw(f"gh/doc/{n}", _ALNUM + "-_", 22),
            "action": "repo.access",
            "actor": "deploy-bot",
            "actor_id": 90210001,
            "created_at": ms,
            "operation_type": "modify",
            "org": "acme",
            "org_id": 7340001,
            "repo": "acme/app",
            "repository": "acme/app",
            "repository_id": 6100001,
            "user_agent": "GitHub-Hookshot/8a1f2c3",
            "actor_ip": "203.0.113.24",
        }
        if plan.carrier.name == "github_hook_config":
            record.update(hook_id=4300001, **plan.rendered)
        else:
            record.update(plan.rendered)
        lines.append(_line(record))
    return lines


def _otlp_requests(shapes: tuple[Shape, ...], per_request: int = 8) -> list[str]:
    """OTLP/JSON ExportLogsServiceRequest bodies, one a line, as Claude Code's exporter posts them."""
    clock = _Clock(BASE_TIME + timedelta(hours=9))
    session = _id("otlp", "session")
    resource = {
        "attributes": [
            {"key": "service.name", "value": {"stringValue": "claude-code"}},
            {"key": "service.version", "value": {"stringValue": "2.1.140"}},
            {"key": "host.name", "value": {"stringValue": "dev-laptop"}},
        ]
    }
    sequence = 0
    requests = []
    shape_list = list(shapes)
    for start in range(0, len(shape_list), per_request):
        records = []
        for shape in shape_list[start : start + per_request]:
            for spec in _otlp_records(shape):
                sequence += 1
                when = clock.tick()
                attrs = {
                    "event.name": spec["event"],
                    "event.timestamp": when.isoformat(timespec="milliseconds").replace(
                        "+00:00", "Z"
                    ),
                    "event.sequence": sequence,
                    "session.id": session,
                    "user.email": "dev@acme.example",
                    "terminal.type": "vscode",
                    "prompt.id": _id("otlp", "prompt", str(sequence)),
                    **spec["attrs"],
                }
                if spec["event"] == "tool_result":
                    attrs["tool_use_id"] = "toolu_01" + _draw(f"otlp/tool/{sequence}", _ALNUM, 22)
                records.append(
                    {
                        "timeUnixNano": str(int(when.timestamp() * 1e9)),
                        "observedTimeUnixNano": str(int(when.timestamp() * 1e9)),
                        "body": {"stringValue": "claude_code." + spec["event"]},
                        "attributes": [
                            {
                                "key": k,
                                "value": {"intValue": str(v)}
                                if isinstance(v, int)
                                else {"stringValue": str(v)},
                            }
                            for k, v in attrs.items()
                        ],
                    }
                )
        requests.append(
            _line(
                {
                    "resourceLogs": [
                        {
                            "resource": resource,
                            "scopeLogs": [
                                {
                                    "scope": {
                                        "name": "com.anthropic.claude_code.events",
                                        "version": "2.1.140",
                                    },
                                    "logRecords": records,
                                }
                            ],
                        }
                    ]
                }
            )
        )
    return requests


def _all_values_line(shapes: tuple[Shape, ...]) -> str:
    """One shell line that sets every shape (single-line ones first, so a cut keeps most)."""
    ordered = sorted(shapes, key=lambda s: (s.multiline, len(s.value)))
    return (
        " ".join(f"{s.env}={_sq(s.value) if s.multiline else s.value}" for s in ordered)
        + " ./scripts/deploy.sh"
    )


def _malformed_files(shapes: tuple[Shape, ...]) -> dict[str, bytes]:
    """One file per format: a valid first line (so the format is recognised), then one line
    that cannot be read carrying every shape. The cut is after the last value."""
    everything = _all_values_line(shapes)
    last = sorted(shapes, key=lambda s: (s.multiline, len(s.value)))[-1]
    last_json = json.dumps(last.value)[1:-1]
    files: dict[str, bytes] = {}

    _, transcript = _claude_transcript(shapes[:1])
    bad = json.loads(transcript[0])
    bad["message"] = {"role": "user", "content": everything}
    files["claude-code-transcript.jsonl"] = (
        transcript[0] + "\n" + cut_after(_line(bad), last_json) + "\n"
    ).encode()

    hooks = _claude_hooks(shapes[:1])
    broken_payload = _line(
        {
            "session_id": "s",
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": everything},
        }
    )
    broken_payload = cut_after(broken_payload, last_json)  # what the hook got on stdin
    try:
        json.loads(broken_payload)
    except ValueError as exc:
        error = f"not JSON: {exc}"
    received = (
        (BASE_TIME + timedelta(hours=10)).isoformat(timespec="microseconds").replace("+00:00", "Z")
    )
    hook_text = _line(
        {
            "received_at": received,
            "agent": "claude-code",
            "payload_text": broken_payload,
            "payload_error": error,
        }
    )
    files["claude-code-hooks.jsonl"] = (hooks[0] + "\n" + hook_text + "\n").encode()

    cursor = _cursor_hooks(shapes[:1])
    bad = json.loads(cursor[0])
    bad["payload"]["command"] = everything
    files["cursor-hooks.jsonl"] = (
        cursor[0] + "\n" + cut_after(_line(bad), last_json) + "\n"
    ).encode()

    _, codex = _codex_rollout(shapes[:1])
    call = (
        json.loads(codex[2])
        if json.loads(codex[2])["payload"].get("type") == "function_call"
        else None
    )
    call = call or {
        "timestamp": "2026-05-20T12:00:00.000Z",
        "type": "response_item",
        "payload": {"type": "function_call", "name": "exec_command", "call_id": "call_x"},
    }
    call["payload"]["arguments"] = json.dumps({"cmd": everything, "workdir": CWD})
    files["codex-rollout.jsonl"] = (
        codex[0] + "\n" + cut_after(_line(call), json.dumps(last_json)[1:-1]) + "\n"
    ).encode()

    chat = _gemini_chat(shapes[:1])
    chat["messages"] = [
        {"id": "m1", "timestamp": chat["startTime"], "type": "user", "content": everything}
    ] + chat["messages"]
    text = json.dumps(chat, indent=2)
    files["gemini-session.json"] = cut_after(
        text, json.dumps(shapes_sorted_short(shapes)[-1].value)[1:-1]
    ).encode()

    # CloudTrail: a damaged delivery file. The damage sits right after a value, so a parser's
    # error message that quotes the input around the damage (yajl's does) carries it.
    records = _cloudtrail(shapes[:1])["Records"]
    good = json.dumps(records[0])
    damaged = good[:-1] + f', "planted": {{"x-token": {shapes_sorted_short(shapes)[0].value}}}}}'
    files["cloudtrail-damaged.json"] = ('{"Records":[' + damaged + "]}\n").encode()
    no_event = _cloudtrail_record(0, _Clock(), "x", "ecs.amazonaws.com", {})
    no_event.pop("eventName")
    no_event["requestParameters"] = {
        "environment": [{"name": s.env, "value": s.value} for s in shapes]
    }
    files["cloudtrail-no-eventname.json"] = _line({"Records": [no_event]}).encode() + b"\n"

    github = _github_audit(shapes[:1])
    bad = json.loads(github[0])
    bad["user_agent"] = everything
    files["github-audit.ndjson"] = (
        github[0] + "\n" + cut_after(_line(bad), last_json) + "\n"
    ).encode()

    otlp = _otlp_requests(shapes[:1])
    bad_request = json.loads(otlp[0])
    record = bad_request["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    record["attributes"].append({"key": "tool_input", "value": {"stringValue": everything}})
    files["claude-code-otlp.json"] = (
        otlp[0] + "\n" + cut_after(_line(bad_request), last_json) + "\n"
    ).encode()
    return files


def shapes_sorted_short(shapes: Iterable[Shape]) -> list[Shape]:
    """Single-line shapes, shortest first."""
    return sorted((s for s in shapes if not s.multiline), key=lambda s: len(s.value))


def write_sources(directory: Path | str, shapes: Iterable[Shape] = SHAPES) -> list[Path]:
    """Write real-format input files carrying every shape in every carrier that makes sense.

    Layout (each file is recognised by agentaudit's collectors by its name and first line):
      claude-code/projects/-home-dev-acme-app/<session>.jsonl   transcript: Bash, Read, Write, prompts
      hooks/claude-code-2026-05-20.jsonl                        PreToolUse/PostToolUse/UserPromptSubmit
      hooks/cursor-2026-05-20.jsonl                             Cursor hook log
      codex/sessions/2026/05/20/rollout-...-<session>.jsonl     exec_command, apply_patch, outputs
      gemini/tmp/<hash>/chats/session-2026-05-20T13-00-<id>.json  run_shell_command, write_file, read_file
      shell/bash_history, shell/zsh_history                     every command carrier
      cloudtrail/123456789012_CloudTrail_us-east-1_20260520T1600Z_planted.json   {"Records": [...]}
      github/audit-log-2026-05-20.ndjson                        GitHub audit log
      otlp/claude-code-logs.json                                OTLP/JSON bodies, one per line (POST each)
      malformed/*                                               one unreadable line per format
    Returns the paths written, sorted. Deterministic: the same bytes on every run.
    """
    shapes = tuple(shapes)
    root = Path(directory)
    written: dict[Path, bytes] = {}

    session, transcript = _claude_transcript(shapes)
    written[root / "claude-code/projects/-home-dev-acme-app" / f"{session}.jsonl"] = (
        "\n".join(transcript).encode() + b"\n"
    )
    written[root / "hooks/claude-code-2026-05-20.jsonl"] = (
        "\n".join(_claude_hooks(shapes)).encode() + b"\n"
    )
    written[root / "hooks/cursor-2026-05-20.jsonl"] = (
        "\n".join(_cursor_hooks(shapes)).encode() + b"\n"
    )
    session, rollout = _codex_rollout(shapes)
    written[root / "codex/sessions/2026/05/20" / f"rollout-2026-05-20T12-00-00-{session}.jsonl"] = (
        "\n".join(rollout).encode() + b"\n"
    )
    chat = _gemini_chat(shapes)
    written[
        root
        / "gemini/tmp"
        / chat["projectHash"]
        / "chats"
        / f"session-2026-05-20T13-00-{chat['sessionId'][:8]}.json"
    ] = json.dumps(chat, indent=2, ensure_ascii=False).encode() + b"\n"
    commands = _shell_commands(shapes)
    written[root / "shell/bash_history"] = _bash_history(commands).encode()
    written[root / "shell/zsh_history"] = _zsh_history(commands).encode()
    written[root / "cloudtrail/123456789012_CloudTrail_us-east-1_20260520T1600Z_planted.json"] = (
        json.dumps(_cloudtrail(shapes)).encode() + b"\n"
    )
    written[root / "github/audit-log-2026-05-20.ndjson"] = (
        "\n".join(_github_audit(shapes)).encode() + b"\n"
    )
    written[root / "otlp/claude-code-logs.json"] = (
        "\n".join(_otlp_requests(shapes)).encode() + b"\n"
    )
    for name, data in _malformed_files(shapes).items():
        written[root / "malformed" / name] = data
    for path, data in written.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return sorted(written)


# -- scanning ------------------------------------------------------------------------------------


class Hit(NamedTuple):
    """One secret found in clear: in a table's column (key = the row's key) or in a file
    (column None, key = byte offset)."""

    where: str  # table (schema.table) or file path
    column: str | None
    key: str | None
    shape: str
    needle: str

    def __str__(self) -> str:
        place = f"{self.where}.{self.column}" if self.column else self.where
        return f"{self.shape} in {place} (key {self.key}): {self.needle[:16]}..."


def _needles_of(values: Any) -> dict[str, tuple[str, ...]]:
    if isinstance(values, Shape):
        values = [values]
    return needles(values)


def _re2_alternation(strings: Iterable[str]) -> str:
    parts = []
    for s in strings:
        if "\\E" in s:
            parts.append("".join("\\" + c if not c.isalnum() else c for c in s))
        else:
            parts.append("\\Q" + s + "\\E")
    return "|".join(parts)


def scan_store(db_path: Path | str, values: Any = SHAPES, include_views: bool = False) -> list[Hit]:
    """Every (table, column, row key, shape) where a planted value is stored in clear.

    Opens the DuckDB file read-only and walks every column of every base table (views too
    when asked) from `information_schema.columns`, each cast to VARCHAR (lists, structs, maps,
    JSON and blobs included), and keeps the rows where a needle occurs. The row key is the
    table's primary key (from `duckdb_constraints()`), else its `rowid`.

    Why SQL and not a grep of the file: DuckDB stores columns compressed (dictionary, FSST,
    and bit-packing per row group), so a secret in a stored string is usually not a byte
    sequence in the `.duckdb` file at all; a byte search of the file finds almost nothing and
    proves nothing. Only the decompressed values, as SQL returns them, show what is kept. (The
    WAL holds recent changes uncompressed: `scan_paths` searches it as bytes.)
    """
    import duckdb

    wanted = _needles_of(values)
    every = sorted({n for ns in wanted.values() for n in ns}, key=len, reverse=True)
    if not every:
        return []
    pattern = _re2_alternation(every)
    hits: list[Hit] = []
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        kinds = ("BASE TABLE", "VIEW") if include_views else ("BASE TABLE",)
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type IN ? AND table_catalog = current_database() ORDER BY 1, 2",
            [list(kinds)],
        ).fetchall()
        for schema, table in tables:
            keys = [
                row[0]
                for row in con.execute(
                    "SELECT unnest(constraint_column_names) FROM duckdb_constraints() "
                    "WHERE schema_name = ? AND table_name = ? AND constraint_type = 'PRIMARY KEY'",
                    [schema, table],
                ).fetchall()
            ]
            columns = [
                row[0]
                for row in con.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                    [schema, table],
                ).fetchall()
            ]
            name = f'"{schema}"."{table}"'
            is_view = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ? AND table_type = 'VIEW'",
                [schema, table],
            ).fetchone()[0]
            if keys:
                key_sql = " || '|' || ".join(
                    f"coalesce(CAST(\"{k}\" AS VARCHAR), '')" for k in keys
                )
            else:
                key_sql = "NULL" if is_view else "CAST(rowid AS VARCHAR)"
            for column in columns:
                try:
                    rows = con.execute(
                        f'SELECT {key_sql} AS k, CAST("{column}" AS VARCHAR) AS v FROM {name} '
                        f'WHERE "{column}" IS NOT NULL AND regexp_matches(CAST("{column}" AS VARCHAR), ?)',
                        [pattern],
                    ).fetchall()
                except (
                    duckdb.Error
                ) as exc:  # a type with no VARCHAR cast: say so, never skip silently
                    hits.append(
                        Hit(f"{schema}.{table}", column, None, "<unscannable>", str(exc)[:200])
                    )
                    continue
                for key, text in rows:
                    for shape, shape_needles in wanted.items():
                        for needle in shape_needles:
                            if needle in text:
                                hits.append(Hit(f"{schema}.{table}", column, key, shape, needle))
                                break
    finally:
        con.close()
    return hits


def _variants(needle: str) -> list[bytes]:
    forms = {needle, json.dumps(needle)[1:-1], needle.replace("/", "\\/")}
    return [f.encode("utf-8") for f in forms]


def scan_paths(paths: Iterable[Path | str], values: Any = SHAPES) -> list[Hit]:
    """Every (file, byte offset, shape) where a planted value occurs in clear in these files.

    For what is not the store: export files, delivered HTTP bodies saved to disk, logs, the
    outbox spool, the DuckDB WAL. A plain byte search (also of each needle's JSON-escaped
    form); `.gz` files are searched inflated. Directories are walked. See `scan_store` for why
    the `.duckdb` file itself needs SQL.
    """
    wanted = {shape: [(n, _variants(n)) for n in ns] for shape, ns in _needles_of(values).items()}
    hits: list[Hit] = []
    files: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file())
        elif path.exists():
            files.append(path)
    for path in files:
        data = path.read_bytes()
        if path.suffix == ".gz":
            with contextlib.suppress(OSError, EOFError):
                data = gzip.decompress(data)
        for shape, shape_needles in wanted.items():
            for needle, forms in shape_needles:
                offsets = [data.find(form) for form in forms]
                offsets = [o for o in offsets if o >= 0]
                if offsets:
                    hits.append(Hit(str(path), None, str(min(offsets)), shape, needle))
                    break
    return hits


def scan_bytes(data: bytes | str, values: Any = SHAPES, where: str = "<bytes>") -> list[Hit]:
    """`scan_paths` for one in-memory body (a delivered page, an HTTP request)."""
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    hits = []
    for shape, shape_needles in _needles_of(values).items():
        for needle in shape_needles:
            offsets = [raw.find(form) for form in _variants(needle)]
            offsets = [o for o in offsets if o >= 0]
            if offsets:
                hits.append(Hit(where, None, str(min(offsets)), shape, needle))
                break
    return hits


def count_occurrences(paths: Iterable[Path], shape: Shape) -> int:
    """How many times the shape occurs in these files: per file, the count of its most
    frequent needle (value, or a distinctive part: a PEM body line, a truncated token's part)."""
    total = 0
    for path in paths:
        data = Path(path).read_bytes()
        total += max(data.count(form) for needle in shape.needles() for form in _variants(needle))
    return total


__all__ = [
    "CARRIERS",
    "SHAPES",
    "SHAPES_BY_NAME",
    "Carrier",
    "Hit",
    "Shape",
    "count_occurrences",
    "cut_after",
    "needles",
    "scan_bytes",
    "scan_paths",
    "scan_store",
    "write_sources",
]
