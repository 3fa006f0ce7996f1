"""Where a secret sits, without dependencies: token shapes, key blocks, and named values.

Standard library only, so the hook process (`agentaudit-hook`, which must stay fast) redacts
payloads with the same rules before it writes a line; `secrets.Redactor` runs them together with
detect-secrets' detectors. Every rule yields `(value, kind, used)`: the text to replace, its type,
and whether it sits where a credential is used (a header, a flag, a variable set for a command).

Three families:
- SHAPES: formats a vendor fixed (a prefix, an alphabet, a length), found anywhere, even in a
  sentence or a user agent. The prefixes are those the vendors document and secret scanners
  check (gitleaks `cmd/generate/config/rules`, noseyparker's rules; no code copied).
- KEY BLOCKS: a PEM private key is the whole block, not its header line; a truncated block
  (an attribute cut at 512 characters) still has its body redacted.
- NAMED VALUES: a value in the position of a secret: `NAME=value`, `name: value`, JSON
  `"name": "value"`, `{"name": N, "value": V}` pairs, `--flag value`, headers, query
  parameters, URL userinfo, `.netrc`/`.pgpass` lines, `mysql -pPASSWORD`, `curl -u user:pass`,
  a user agent's `token/value` product, a sentence's "the API key is value". A name counts when
  one of its words is a secret noun and its last word is not metadata (`secret_name`,
  `key_id`); the value must look like a secret for that noun (see `_VALUE_CHECKS`).

Patterns tolerate JSON escaping (`\\"`, `\\n`), so they also match inside a record's raw JSON;
`views` gives the unescaped text for what only line structure shows.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import functools
import hashlib
import hmac
import itertools
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

PLACEHOLDER_RE = re.compile(r"\[SECRET:([a-z0-9_]+):([0-9a-f]{16})\]")


class _Lazy:
    """A pattern compiled on first use: the hook process (a new one for every tool call) pays
    only for the rules whose literals its payload holds."""

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._compiled: re.Pattern[str] | None = None

    def _re(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern)
        return self._compiled

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return self._re().search(text, pos)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self._re().finditer(text)

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return self._re().match(text, pos)


Found = tuple[str, str, bool]

# -- token shapes ------------------------------------------------------------------------------
_B = r"(?<![\w-])"  # not inside a longer token (a lookbehind: dropped by the RE2 prefilter)
_E = r"(?![\w-])"

# (kind, literals one of which every match contains, pattern)
SHAPES: list[tuple[str, tuple[str, ...], str]] = [
    (
        "aws_access_key_id",
        ("A3T", "AKIA", "ASIA", "ABIA", "ACCA"),
        r"(?<![A-Za-z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Za-z0-9])",
    ),
    # STS session tokens start with these heads (base64 of their binary header) in every sample
    (
        "aws_session_token",
        ("IQoJb3JpZ2luX2V", "FwoGZXIvYXdzE"),
        r"(?<![A-Za-z0-9+/])(?:IQoJb3JpZ2luX2V|FwoGZXIvYXdzE)[A-Za-z0-9+/]{60,}={0,2}",
    ),
    ("github_token", ("gh",), rf"{_B}gh[pousr]_[A-Za-z0-9]{{36,251}}{_E}"),
    ("github_token", ("github_pat_",), rf"{_B}github_pat_[A-Za-z0-9_]{{40,251}}{_E}"),
    ("gitlab_token", ("gl",), rf"{_B}gl(?:pat|ptt|dt|rt|oas|cbt|soat|ft)-[\w-]{{20,}}"),
    ("slack_token", ("xox",), rf"{_B}xox[abposre]-(?:\d+-)+[A-Za-z0-9-]{{10,}}"),
    (
        "slack_webhook",
        ("hooks.slack.com",),
        # the whole URL, as detect-secrets takes it: the URL is the credential
        r"(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/+-]{20,}",
    ),
    (
        "stripe_key",
        ("sk_", "rk_", "whsec_"),
        rf"{_B}(?:(?:sk|rk)_(?:live|test|prod)_|whsec_)[A-Za-z0-9]{{20,247}}{_E}",
    ),
    ("openai_key", ("sk-",), rf"{_B}sk-(?:proj|svcacct|admin)-[\w-]{{40,}}"),
    ("openai_key", ("sk-",), rf"{_B}sk-[A-Za-z0-9]{{20}}T3BlbkFJ[A-Za-z0-9]{{20}}{_E}"),
    ("anthropic_key", ("sk-ant-",), rf"{_B}sk-ant-[a-z]{{2,6}}\d{{2}}-[\w-]{{40,}}"),
    ("google_api_key", ("AIza",), rf"{_B}AIza[\w-]{{35}}{_E}"),
    ("google_oauth_token", ("ya29.",), rf"{_B}ya29\.[\w-]{{20,}}"),
    ("google_refresh_token", ("1//0",), rf"{_B}1//0[\w-]{{40,}}"),
    (
        "jwt",
        ("eyJ", "eyA"),
        rf"{_B}ey[JA][\w-]{{8,}}={{0,2}}\.ey[\w-]{{6,}}={{0,2}}\.[\w-]{{8,}}={{0,2}}",
    ),
    ("vault_token", ("hvs.", "hvb.", "hvr."), rf"{_B}hv[sbr]\.[\w-]{{24,}}"),
    ("heroku_key", ("HRKU-",), rf"{_B}HRKU-[\w-]{{20,}}"),
    ("fly_token", ("fo1_", "fm1", "fm2"), rf"{_B}(?:fo1_[\w-]{{40,}}|fm[12][ar]?_[\w+/=-]{{40,}})"),
    (
        "supabase_token",
        ("sbp_", "sb_secret_"),
        rf"{_B}(?:sbp_(?:oauth_)?[a-f0-9]{{40}}|sb_secret_[\w-]{{20,}}){_E}",
    ),
    ("npm_token", ("npm_",), rf"{_B}npm_[A-Za-z0-9]{{36}}{_E}"),
    ("pypi_token", ("pypi-AgE",), rf"{_B}pypi-AgE[\w-]{{50,}}"),
    ("sendgrid_key", ("SG.",), rf"{_B}SG\.[\w-]{{22}}\.[\w-]{{43}}{_E}"),
    ("twilio_key", ("SK",), rf"{_B}SK[0-9a-fA-F]{{32}}{_E}"),
    (
        "digitalocean_token",
        ("dop_v1_", "doo_v1_", "dor_v1_"),
        rf"{_B}do[opr]_v1_[a-f0-9]{{64}}{_E}",
    ),
    ("shopify_token", ("shp",), rf"{_B}shp(?:at|ca|pa|ss)_[a-fA-F0-9]{{32}}{_E}"),
    ("databricks_token", ("dapi",), rf"{_B}dapi[a-f0-9]{{32}}(?:-\d)?{_E}"),
    ("huggingface_token", ("hf_",), rf"{_B}hf_[A-Za-z0-9]{{34}}{_E}"),
    ("linear_key", ("lin_api_",), rf"{_B}lin_api_[A-Za-z0-9]{{40}}{_E}"),
    ("doppler_token", ("dp.",), rf"{_B}dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{{40,}}"),
    (
        "grafana_token",
        ("glsa_", "glc_"),
        rf"{_B}(?:glsa_[A-Za-z0-9]{{32}}_[A-Fa-f0-9]{{8}}|glc_[A-Za-z0-9+/]{{32,}}={{0,2}})",
    ),
    ("sentry_token", ("sntr",), rf"{_B}sntr[ysu]_[A-Za-z0-9+/=_]{{40,}}"),
    ("atlassian_token", ("ATATT3",), rf"{_B}ATATT3[\w=-]{{150,}}"),
    ("postman_key", ("PMAK-",), rf"{_B}PMAK-[a-f0-9]{{24}}-[a-f0-9]{{34}}{_E}"),
    ("age_secret_key", ("AGE-SECRET-KEY-1",), r"AGE-SECRET-KEY-1[0-9A-Z]{58}"),
    ("newrelic_key", ("NRAK-",), rf"{_B}NRAK-[A-Z0-9]{{27}}{_E}"),
    ("azure_ad_secret", ("Q~",), rf"{_B}[\w~.]{{3}}\dQ~[\w~.-]{{31,34}}{_E}"),
]

# -- key blocks ----------------------------------------------------------------------------------
# A body line break is a newline, or one escaped once or more (`\n`, `\\n` in nested JSON).
# (and `→`: Claude Code's Read prints each line after its number and an arrow)
_BODY = r"(?:[A-Za-z0-9+/=→]|[ \t\r\n]|\\+[nrt]|\\+u2192)"
_PEM_RE = _Lazy(
    r"-----BEGIN[A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?-----"
    # a body of 40 characters at least: a header and a line number are no key
    rf"(?:(?:[ \t\r\n]|\\+[nrt])*(?:Proc-Type|DEK-Info|Comment|Version):[^\n\\]*)*{_BODY}{{40,}}"
    r"(?:-----END[A-Z0-9 ]{0,30}-----)?"
)
_PUTTY_RE = _Lazy(
    rf"PuTTY-User-Key-File-\d:[^\n\\]*(?:(?:\n|\\+n)[^\n\\]*){{0,12}}?Private-Lines: *\d+{_BODY}+"
)
# base64 of a PEM private key (kubeconfig client-key-data, Kubernetes Secret data)
_B64_PEM_RE = _Lazy(r"LS0tLS1CRUdJTi[A-Za-z0-9+/]{20,}={0,2}")
KEY_BLOCKS = (_PEM_RE, _PUTTY_RE, _B64_PEM_RE)

# -- named values --------------------------------------------------------------------------------
# Long nouns count as a word's ending (PGPASSWORD, authtoken); short ones as a whole word.
_LONG_NOUNS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "credential",
    "credentials",
)
_SHORT_NOUNS = {
    "key": "key",
    "pass": "password",
    "pwd": "password",
    "pw": "password",
    "auth": "key",
    "sas": "key",
    "pat": "token",
    "jwt": "token",
    "dsn": "url",
    "url": "url",
    "uri": "url",
}
# the last word names something about the secret, not the secret itself (or a file's name:
# `src/auth.ts:9:` in grep output)
_METADATA = frozenset((
    "name", "names", "id", "ids", "arn", "ref", "refs", "path", "paths", "file", "files", "dir",
    "type", "types", "length", "len", "count", "size", "version", "env", "var", "vars", "field",
    "prefix", "suffix", "format", "hash", "fingerprint", "fp", "fps", "expiry", "expires",
    "expiration", "ttl", "timeout", "at", "time", "date", "header", "policy", "scope", "scopes",
    "endpoint", "host", "method", "provider", "source", "mode", "location", "region", "label",
    "description", "usage", "limit", "rotation", "encoding", "algorithm", "alg", "kind",
    "status", "required", "enabled", "exists", "reset", "changed", "updated", "created",
    "manager", "store", "command", "cmd", "helper", "hint", "rule", "rules", "pattern",
    "patterns", "regex", "tokens", "index", "stdin", "prompt", "input", "ts", "tsx", "js", "jsx",
    "mjs", "py", "go", "rb", "rs", "java", "kt", "c", "h", "cpp", "cs", "php", "ex", "exs",
    "json", "yaml", "yml", "toml", "txt", "md", "sh", "cfg", "conf", "lock", "log", "html",
    "css", "xml", "sql", "tf",
))  # fmt: skip
_WORDS_RE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


# a word before the noun that makes it something else: a page or idempotency token, a hash of
# a token, a public key
_NOT_CREDENTIALS = {
    "token": frozenset(
        [
            "next",
            "page",
            "nextpage",
            "continuation",
            "client",
            "clientrequest",
            "request",
            "idempotency",
            "sync",
            "resume",
            "cancel",
            "csrf",
            "max",
        ]
    ),
    "key": frozenset(
        [
            "public",
            "tag",
            "attribute",
            "sort",
            "partition",
            "primary",
            "foreign",
            "cache",
            "idempotency",
            "dedup",
            "dedupe",
            "group",
            "object",
            "row",
            "lookup",
            "unique",
            "composite",
        ]
    ),
}
_HASHED = frozenset(["hashed", "hash", "digest"])


@functools.lru_cache(maxsize=4096)  # names repeat: a record's field names, a file's keys
def noun_of(name: str) -> str | None:
    """`password`, `token` or `url` (how strictly to judge its value) when `name` names a
    secret; None when it does not."""
    words = [w.lower() for w in _WORDS_RE.findall(name)]
    if not words or words[-1] in _METADATA or _HASHED.intersection(words):
        return None
    if words == ["key"]:  # `{"Key": "Name", "Value": ...}`: a tag, a map entry
        return None
    for noun, qualifiers in _NOT_CREDENTIALS.items():
        for before, word in itertools.pairwise(words):
            if word.startswith(noun) and before in qualifiers:
                return None
    joined = "".join(words)
    if ("connection" in words and "string" in words) or joined.endswith("connstr"):
        return "url"
    found: str | None = None
    for word in words:
        for noun in _LONG_NOUNS:
            if word.endswith(noun):
                return "password" if noun.startswith("pass") else "token"
        short = _SHORT_NOUNS.get(word)
        if short == "password":
            return "password"
        if short and found in (None, "url"):
            found = "token" if short == "key" else short
    return found


_NOT_VALUES = frozenset(
    [
        "true",
        "false",
        "null",
        "none",
        "nil",
        "yes",
        "no",
        "undefined",
        "redacted",
        "hidden",
        "masked",
        "changeme",
        "example",
        "string",
        "required",
        "optional",
        "secret",
        "password",
        "token",
        "value",
        "env",
        "default",
        "empty",
    ]
)
_PATH_RE = re.compile(r"(?:~|\.{1,2})?/(?:[\w.@-]+/)*[\w.@-]*")
_REFERENCE_RE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")  # os.environ, self.token


def _is_reference(value: str) -> bool:
    """A variable, template or placeholder naming a secret, not one."""
    if value[0] in "$%<{*" or value.startswith(("[SECRET:", "...", "ENC[", "vault:", "arn:")):
        return True
    return value.lower() in _NOT_VALUES or _REFERENCE_RE.fullmatch(value) is not None


def _classes(value: str) -> tuple[bool, bool, bool]:
    return (
        any(c.isupper() for c in value),
        any(c.islower() for c in value),
        any(c.isdigit() for c in value),
    )


_RELATIVE_FILE_RE = re.compile(r"[\w.@-]+(?:/[\w.@-]+)+\.[A-Za-z]{1,5}")  # e2e/invoices.e2e.ts


def _pathlike(value: str) -> bool:
    if "://" in value or _RELATIVE_FILE_RE.fullmatch(value):
        return True
    return _PATH_RE.fullmatch(value) is not None and not re.fullmatch(r"[A-Za-z0-9/+]{40}", value)


# words joined as a program names things: getUserUrl, ReadOnly, HIDDEN_DUE_TO_SECURITY_REASONS
_IDENTIFIER_RE = re.compile(
    r"(?:[A-Z]?[a-z]{2,}|[A-Z]{2,}(?![a-z]))(?:[_.-]?(?:[A-Z]?[a-z]{2,}|[A-Z]{2,}(?![a-z])))*"
)


def tokenish(value: str, min_len: int = 8) -> bool:
    """Looks like a credential: long enough, and mixed (digits with letters, or both cases),
    not a word, an identifier, a slug, a number, a path or a URL."""
    if len(value) < min_len or _is_reference(value) or _pathlike(value):
        return False
    upper, lower, digit = _classes(value)
    if not digit and _IDENTIFIER_RE.fullmatch(value):
        return False
    return (digit and (upper or lower)) or (upper and lower)


def random_looking(value: str) -> bool:
    """Stricter, for weak contexts (a URL-named variable, a sentence): 16+ characters of
    mixed classes that change often (a CamelCase identifier changes once a word)."""
    if not tokenish(value, 16) or not re.fullmatch(r"[\w+/=.~%-]+", value):
        return False
    kinds = [
        "u" if c.isupper() else "l" if c.islower() else "d" if c.isdigit() else "s" for c in value
    ]
    changes = sum(a != b for a, b in itertools.pairwise(kinds))
    return sum(_classes(value)) == 3 or changes >= len(value) // 4


def _password_like(value: str) -> bool:
    # 6+: a shorter value would be replaced inside unrelated words too
    return len(value) >= 6 and not _is_reference(value) and not _pathlike(value)


# strictness by noun, for a strong context (an assignment) and a weak one (a space, a sentence)
_VALUE_CHECKS: dict[str, tuple[Callable[[str], bool], Callable[[str], bool]]] = {
    "password": (_password_like, lambda v: tokenish(v, 6)),
    "token": (tokenish, tokenish),
    "url": (random_looking, random_looking),
}

# A value runs until whitespace, a quote, an escape or a delimiter of its container.
_PH = r"\[SECRET:[a-z0-9_]+:[0-9a-f]{16}\]"  # a value redacted before (the hook log)
_VC = r"[^\s'\"`\\,;&<>|(){}\[\]]"  # a value's character
_VN = r"[^\s'\"`\\,;&<>|(){}\[\]0-9]"  # ... other than a digit: a value is not a number
# 6+ characters, not all digits (`true` and `3600` are no secrets)
_V = r"(?P<v>" + _PH + "|" + _VN + _VC + "{5,}|[0-9]" + _VC + "*" + _VN + _VC + "*)"
# after a space (weaker than `=`): with a digit, or a lower-case letter then an upper-case one
_VW = r"(?P<v>" + _PH + "|" + _VC + "*(?:[0-9]" + _VC + "*|[a-z]" + _VC + "*[A-Z]" + _VC + "*))"
# a token, not a URL or a path: no `:` or `@`, no leading `/`
_VR = r"(?P<v>" + _PH + r"|[A-Za-z0-9+=_.~%-][A-Za-z0-9+/=_.~%-]{15,}(?![A-Za-z0-9+/=_.~%:@-]))"
_Q = r"\\*[\"'`]?"  # an optional quote, escaped or not


def _name(nouns: str, group: str = "name") -> str:
    """A name with one of `nouns` ending a word in it (`path`, `author`, `keyword` do not
    count: the noun is followed by nothing, a plural s, a separator or a capital); `noun_of`
    judges the whole name."""
    tail = r"(?:s|[_.-][A-Za-z0-9_.-]{0,40}|[A-Z][A-Za-z0-9_.-]{0,40})?"
    return rf"(?P<{group}>[A-Za-z0-9_.-]{{0,60}}?(?i:{nouns}){tail})"


# `key` alone names a map entry (`{"Key": "Name", "Value": ...}`): it counts after a word
_SECRET_NOUNS = (
    r"passw(?:or)?d|passphrase|pass|pwd|pw|secret|token|auth|credentials?|sas|pat|jwt"
    r"|[A-Za-z0-9][_.-]?key"
)
_URL_NOUNS = r"url|uri|dsn|connection_?string|conn_?str"
_NAME = _name(_SECRET_NOUNS)
_URL_NAME = _name(_URL_NOUNS)
_OP = r"\\*[\"']?\]?[ \t]*(?P<op>:=|=>|==?|:(?!//))[ \t]*"  # closing quote, operator

NAMED: list[tuple[str, _Lazy, bool, str]] = [
    # (kind, pattern, used, strength); groups: v (or v2) the value, name when there is one
    (
        "bearer_token",  # Authorization: Bearer|token|Basic ..., also as a JSON field
        _Lazy(
            r"(?i)(?<![\w-])(?:proxy-)?authorization\\*[\"']?\s*[:=]\s*\\*[\"']?"
            r"(?:(?:bearer|token|basic|bot|apikey|api-key|sso-key|key)\s+(?P<v>[^\s'\"`\\,;]{6,})"
            # with no scheme, a raw token: it has a digit (`Bearer` alone is no value)
            r"|(?P<v2>[^\s'\"`\\,;]*[0-9][^\s'\"`\\,;]*))"
        ),
        True,
        "header",
    ),
    (
        "bearer_token",
        _Lazy(r"(?i)(?<![\w-])bearer\s+(?P<v>" + _PH + r"|[A-Za-z0-9._~+/=-]{8,})"),
        True,
        "token",
    ),
    (
        "query_secret",  # Azure SAS `&sig=`, presigned URLs' signatures
        _Lazy(r"(?i)[?&;#](?P<name>(?:x-(?:amz|goog)-)?sig(?:nature)?)=(?P<v>[^&\s'\"\\#<>]{8,})"),
        True,
        "query",
    ),
    (
        "named_value",  # {"name": "X_TOKEN", "value": "..."}, YAML `- name: X_TOKEN\n  value: ...`
        _Lazy(
            r"(?i)(?<![\w-])name\\*[\"']?\s*[:=]\s*\\*[\"']?"
            r"(?P<name>[\w.-]{0,60}?(?:" + _SECRET_NOUNS + "|" + _URL_NOUNS + r")[\w.-]{0,40})"
            r"\\*[\"']?\s*(?:,|\s|\\+[nrt])*"
            r"(?:-\s*)?\\*[\"']?value\\*[\"']?\s*[:=]\s*" + _Q + _V
        ),
        False,
        "strong",
    ),
    (
        "url_password",
        _Lazy(
            r"(?i)(?<![\w+.-])[a-z][a-z0-9+.-]{1,20}://(?:" + _PH + r"|[^\s:/@'\"\\]*)"
            r":(?P<v>[^\s@/'\"\\]{3,})@"
        ),
        True,
        "password",
    ),
    (
        "cli_password",  # mysql -pPASSWORD (no space: with one, -p prompts), sshpass -p X
        _Lazy(
            r"(?<![\w-])(?:(?:mysql\w*|mariadb[\w-]*)\b[^\n|;&]*?\s-p(?P<v>[^\s'\"`\\-][^\s'\"`\\]{2,})"
            r"|sshpass\s+-p\s*" + _Q + r"(?P<v2>[^\s'\"`\\]{4,}))"
        ),
        True,
        "password",
    ),
    (
        "basic_auth",  # curl -u user:password, --user, --proxy-user
        _Lazy(
            r"(?<![\w-])(?:-u|-U|--user|--proxy-user)[ \t]*"
            + _Q
            + r"(?:"
            + _PH
            + r"|[^\s:'\"`\\]+):(?P<v>[^\s'\"`\\]{4,})"
        ),
        True,
        "weak-password",
    ),
    (
        "pgpass_password",  # ~/.pgpass: a whole line host:port:database:user:password
        _Lazy(
            r"(?:^|(?<=[\n\"\t→])|(?<=\\[nt]))[\w.*-]+:(?:\d{1,5}|\*):[\w.*-]+:[\w.*@-]+:"
            r"(?P<v>[^\s:'\"`\\]{4,})(?=$|[\r\n]|\\[rn])"
        ),
        False,
        "password",
    ),
    (
        "encoded_secret",  # echo <base64> | base64 -d
        _Lazy(
            r"(?<![\w-])echo\s+(?:-n\s+)?"
            + _Q
            + r"(?P<v>[A-Za-z0-9+/]{16,}={0,2})"
            + _Q
            + r"\s*\|\s*base64\s+(?:-d|--decode|-D)"
        ),
        False,
        "any",
    ),
]

# Rules keyed on a name are found from the noun out, not by a regex that tries every position
# (a name's open prefix made that the costliest scan): each occurrence of a noun is widened to
# the whole name, the name judged (`noun_of`), then what follows it matched in place.
_NOUN_RE = re.compile(
    r"(?i:" + _SECRET_NOUNS.replace("[A-Za-z0-9][_.-]?key", "key") + "|" + _URL_NOUNS + ")"
)
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_WORD_CHARS = _NAME_CHARS - {".", "-"}


_HEADER_END = re.compile(r"(?i)(?:token|key|secret|passw(?:or)?d|auth|apikey|credential|pat)$")


def _before_ok(kind: str, before: str) -> bool:
    """Is the character before a name (`""` at the start) a boundary for this rule?"""
    if not before:
        return True
    if kind == "env_secret":
        return before not in _WORD_CHARS and before not in ".:-"
    if kind == "user_agent_secret":
        return before.isspace() or before in "(;"
    if kind == "spaced_secret":
        return before not in _WORD_CHARS and before not in "./-"
    return before not in _WORD_CHARS and before not in "-:"  # prose, headers (not an ARN's)


# `path:12:` or `path:` before a line, as grep and ripgrep print a match
_GREP_PREFIX = re.compile(r"(?:^|[\s\"]|\\n)[\w~.-]*[/.][\w/~.-]*:(?:\d+:)?$")


def _after_grep_prefix(kind: str, text: str, start: int) -> bool:
    """Does the name open a line grep printed (`./.env:2:RAILWAY_TOKEN=...`)? The `:` before
    it is then no part of a longer name (as in an ARN or a URL)."""
    if kind != "env_secret" or text[start - 1 : start] != ":":
        return False
    return _GREP_PREFIX.search(text, max(0, start - 300), start) is not None


# (kind, what follows the name, used, strength, whether url nouns count)
AFTER_NAME: list[tuple[str, re.Pattern[str], bool, str, bool]] = [
    # X-Vault-Token:, DD-API-KEY:, PRIVATE-TOKEN:, Project-Access-Token: (a hyphenated name)
    (
        "api_token_header",
        re.compile(r"\\*[\"']?\s*:\s*\\*[\"']?(?P<v>[^\s'\"`\\,;]{6,})"),
        True,
        "header",
        False,
    ),
    ("env_secret", re.compile(_OP + _Q + _V), True, "strong", False),
    ("env_secret", re.compile(_OP + _Q + _VR), True, "strong", True),
    ("cli_secret", re.compile(r"(?:=|\s+)" + _Q + _V), True, "weak", False),
    # .netrc `password X`, `aws configure set aws_secret_access_key X`
    ("spaced_secret", re.compile(r"[ \t]+" + _Q + _VW), False, "weak", False),
    # a user agent's `x-token/VALUE` product
    ("user_agent_secret", re.compile(r"/(?P<v>[^\s;()'\"\\]{12,})"), True, "weak", False),
    # "the DATABASE_URL is X", "my API key was X"
    (
        "prose_secret",
        re.compile(r"\s+(?i:is|was|=)\s+" + _Q + r"(?P<v>[^\s'\"`\\,;<>|(){}\[\]]{8,})"),
        False,
        "weak",
        True,
    ),
]


_NOUN_LITERALS = (
    "pass", "pwd", "pw", "secret", "token", "auth", "credential", "sas", "pat", "jwt", "key",
    "url", "uri", "dsn", "conn",
)  # fmt: skip


def _noun_spans(text: str) -> list[tuple[int, int]]:
    """Where the nouns are: `str.find` on the lower-cased text (C speed; a case-insensitive
    alternation tried at every position was the costliest step), the regex to confirm."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a character that lower-cases to two: positions shift
        return [m.span() for m in _NOUN_RE.finditer(text)]
    starts = set()
    for literal in _NOUN_LITERALS:
        at = lowered.find(literal)
        while at >= 0:
            starts.add(at)
            at = lowered.find(literal, at + 1)
    spans = []
    for at in sorted(starts):
        match = _NOUN_RE.match(text, at)
        if match:
            spans.append(match.span())
    return spans


def _names(text: str) -> Iterator[tuple[int, int, int]]:
    """(start, end, how many leading dashes) of each name holding a secret noun, once each
    (the `SECRET` of a placeholder is none)."""
    seen: set[tuple[int, int]] = set()
    redacted = [m.span() for m in PLACEHOLDER_RE.finditer(text)] if "[SECRET:" in text else []
    starts = [a for a, _b in redacted]
    for noun_start, noun_end in _noun_spans(text):
        inside = bisect.bisect_right(starts, noun_start) - 1
        if inside >= 0 and noun_start < redacted[inside][1]:
            continue
        after = text[noun_end : noun_end + 1]
        if after and after.islower() and after != "s":
            continue  # the noun does not end a word: path, author, keyword
        if text[noun_start:noun_end].lower() == "key" and (
            noun_start == 0 or text[noun_start - 1] not in _NAME_CHARS
        ):
            continue  # `key` alone names a map entry
        start = noun_start
        while start > 0 and noun_start - start < 60 and text[start - 1] in _NAME_CHARS:
            start -= 1
        end = noun_end
        while end < len(text) and end - noun_end < 40 and text[end] in _NAME_CHARS:
            end += 1
        if (start, end) not in seen:
            seen.add((start, end))
            name = text[start:end]
            yield start, end, len(name) - len(name.lstrip("-"))


class _NameMatch:
    """What `_accept` reads of a match, for a name found from its noun."""

    def __init__(self, text: str, name: str, value_match: re.Match[str]) -> None:
        self.string, self._name, self._value = text, name, value_match

    def groupdict(self) -> dict[str, str | None]:
        return {"name": self._name, "v": self._value.group("v")}

    def end(self, group: str = "v") -> int:
        return self._value.end("v")


def find_names(text: str) -> Iterator[Found]:
    """Values after a name that holds a secret noun (`NAME=v`, `--name v`, `name: v`, ...)."""
    for start, end, dashes in _names(text):
        name = text[start + dashes : end].rstrip(".")
        if not name:
            continue
        noun = noun_of(name)
        if noun is None:
            continue
        before = text[start - 1 : start] if start else ""
        for kind, after, used, strength, url_ok in AFTER_NAME:
            if (noun == "url") != url_ok and not (kind == "prose_secret" and noun != "url"):
                continue
            if kind == "cli_secret":
                if not 1 <= dashes <= 2 or before in _WORD_CHARS:
                    continue
            elif dashes or not (_before_ok(kind, before) or _after_grep_prefix(kind, text, start)):
                continue
            if kind == "api_token_header" and ("-" not in name or not _HEADER_END.search(name)):
                continue
            match = after.match(text, start + dashes + len(name))
            if match is None:
                continue
            value = match.group("v").rstrip(".:,*")
            if not PLACEHOLDER_RE.fullmatch(value) and (
                "[SECRET:" in value or _cuts_placeholder(text, match.start("v"), match.end("v"))
            ):
                continue  # part of one: redaction must be idempotent
            # a placeholder (redacted before: the hook log) counts as its clear value would
            if PLACEHOLDER_RE.fullmatch(value) or (
                value and _accept(strength, _NameMatch(text, name, match), value)
            ):
                op = match.groupdict().get("op")
                # `"name": value` is a JSON object's field (`"NAME=value` opens a JSON string)
                named = "json_secret" if kind == "env_secret" and before + op == '":' else kind
                yield value, named, used and op in (None, "=", ":=")
                break


# For the RE2 prefilter, one witness stands for every rule keyed on a name: the noun, what can
# follow it in a name, a separator, a value. (Each rule widened on its own repeats the name's
# open prefix, and their DFA grows with every copy.)
_TAIL = r"(?:s|[_.-][A-Za-z0-9_.-]*|[A-Z][A-Za-z0-9_.-]*)?\\*[\"']?\]?[ \t]*"
_V6 = r"(?:" + _PH + "|" + _VN + _VC + "{5,}|[0-9]" + _VC + "*" + _VN + _VC + "*)"
NAME_WITNESS = "|".join(
    (
        r"(?i:" + _SECRET_NOUNS + ")" + _TAIL + r"(?::=|=>|==?|:)[ \t]*" + _Q + _V6,
        r"(?i:" + _SECRET_NOUNS + ")" + _TAIL + r"[ \t]+" + _Q + _VW.replace("?P<v>", ""),
        r"[\s\(;][A-Za-z0-9_.-]*(?i:" + _SECRET_NOUNS + ")" + _TAIL + r"/[^\s;()'\"\\]{8,}",
        r"(?i:"
        + _SECRET_NOUNS
        + "|"
        + _URL_NOUNS
        + ")"
        + _TAIL
        + r"(?i:is|was|=)[ \t]+"
        + _Q
        + _VC
        + "{8,}",
        r"(?i:"
        + _URL_NOUNS
        + ")"
        + _TAIL
        + r"(?::=|=>|==?|:)[ \t]*"
        + _Q
        + r"[A-Za-z0-9+=_.~%-][A-Za-z0-9+/=_.~%-]{8,}",
    )
)

# cheap literals a rule cannot match without (any of them, in the case-folded text)
NAMED_LITERALS: dict[str, tuple[str, ...]] = {
    "bearer_token": ("authorization", "bearer"),
    "api_token_header": ("-",),
    "cli_secret": ("-",),
    "query_secret": ("sig",),
    "named_value": ("value",),
    "url_password": ("://",),
    "cli_password": ("mysql", "mariadb", "sshpass"),
    "basic_auth": ("-u", "--user", "--proxy-user"),
    "pgpass_password": (":",),
    "encoded_secret": ("base64",),
    "user_agent_secret": ("/",),
}


def _accept(strength: str, match: re.Match[str], value: str) -> bool:
    """Does the match's name and value make it a secret? (strength: see NAMED)"""
    end = match.end("v") if match.groupdict().get("v") else match.end()
    if match.string[end : end + 1] in ("(", "["):
        return False  # os.getenv(...), config[...]: an indirect reference
    if strength == "any":
        return not _is_reference(value)
    if strength == "header":  # a header's value is what it sends, but not a placeholder word
        return not _is_reference(value) and not _IDENTIFIER_RE.fullmatch(value)
    if strength == "password":
        return _password_like(value)
    if strength == "weak-password":
        return tokenish(value, 6)
    name = match.groupdict().get("name") or match.groupdict().get("uname")
    if strength in ("token", "query") or name is None:
        return tokenish(value)
    noun = noun_of(name)
    if noun is None:
        return False
    strong, weak = _VALUE_CHECKS[noun]
    return strong(value) if strength == "strong" else weak(value)


def _starts_at(*literals: str, back: tuple[int, ...] = (0,)) -> Callable[[str, str], set[int]]:
    """Where a rule's match can start: each occurrence of a literal (lower-cased text), moved
    back by each of `back`."""

    def starts(text: str, lowered: str) -> set[int]:
        return {
            max(0, at - b) for lit in literals for at in _occurrences(lowered, lit) for b in back
        }

    return starts


def _starts_before(regex: str, chars: str, limit: int) -> Callable[[str, str], set[int]]:
    """Where a rule's match can start: back over `chars` (at most `limit`) from each match of
    `regex` (the scheme before `://`, the host before a .pgpass line's `:port:`)."""
    compiled, allowed = re.compile(regex), frozenset(chars)

    def starts(text: str, lowered: str) -> set[int]:
        out = set()
        for match in compiled.finditer(text):
            at = match.start()
            while at > 0 and match.start() - at < limit and text[at - 1] in allowed:
                at -= 1
            out.add(at)
        return out

    return starts


# (and what (?i) matches as a letter: ı, ſ and the Kelvin sign)
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\u0131\u017f\u212a"
# Each NAMED rule is tried where its literal is, not at every position: these patterns open
# with a lookbehind, which keeps the regex engine from skipping ahead (ten times slower).
NAMED_STARTS: list[Callable[[str, str], set[int]]] = [
    _starts_at("proxy-authorization", "authorization"),
    _starts_at("bearer"),
    _starts_at("sig", back=(1, 7, 8)),  # [?&;#], then x-amz- / x-goog-
    _starts_at("name"),
    _starts_before(r"://", _ALNUM + "+.-", 21),
    _starts_at("mysql", "mariadb", "sshpass"),
    _starts_at("-u", "--user", "--proxy-user"),  # (-U is -u lower-cased)
    _starts_before(r":(?:\d{1,5}|\*):[^:\s]+:[^:\s]+:", _ALNUM + "_.*-", 255),
    _starts_at("echo"),
]


def find_named(text: str, lowered: str, shortcuts: bool = True) -> Iterator[Found]:
    """Values that sit in a secret's position (see NAMED)."""
    # positions in `lowered` (case-folded as (?i) folds) are the text's while lengths agree
    anchored = shortcuts and len(lowered) == len(text)  # else positions shift: scan every one
    for (kind, pattern, used, strength), starts in zip(NAMED, NAMED_STARTS, strict=True):
        literals = NAMED_LITERALS.get(kind)
        if shortcuts and literals and not any(x in lowered for x in literals):
            continue
        matches = _anchored(pattern, text, starts(text, lowered)) if anchored else None
        yield from _named_values(kind, pattern, used, strength, text, matches)


def _cuts_placeholder(text: str, start: int, end: int) -> bool:
    """Does [start, end) hold part of a placeholder (`stripe_key:0123...]` after `[SECRET:`)?"""
    if "[SECRET:" not in text:
        return False
    at = text.rfind("[SECRET:", 0, end)
    while at >= 0:
        placeholder = PLACEHOLDER_RE.match(text, at)
        if placeholder and placeholder.end() > start:
            return (at, placeholder.end()) != (start, end)
        if placeholder and placeholder.end() <= start:
            return False
        at = text.rfind("[SECRET:", 0, at)
    return False


def used_placeholders(text: str) -> list[str]:
    """The fingerprints of the placeholders in `text` (and its unescaped forms) that sit in a
    position of use (`Authorization: Bearer [SECRET:...]`, `TOKEN=[SECRET:...] cmd`): whether a
    secret was used is judged on the redacted text, the same whether it was redacted at ingest
    or before (the hook log)."""
    out: list[str] = []
    for view in views(text):
        lowered = view.casefold().replace("\u0131", "i")
        for value, _kind, used in (*find_names(view), *find_named(view, lowered)):
            placeholder = PLACEHOLDER_RE.fullmatch(value)
            if used and placeholder and placeholder.group(2) not in out:
                out.append(placeholder.group(2))
    return out


def _anchored(pattern: _Lazy, text: str, starts: set[int]) -> Iterator[re.Match[str]]:
    for at in sorted(starts):
        if (match := pattern.match(text, at)) is not None:
            yield match


def _named_values(
    kind: str,
    pattern: _Lazy,
    used: bool,
    strength: str,
    text: str,
    matches: Iterator[re.Match[str]] | None,
) -> Iterator[Found]:
    pos = 0
    while True:
        match = next(matches, None) if matches is not None else pattern.search(text, pos)
        if match is None:
            return
        if match.start() < pos:  # inside a value taken before (as `search` from pos skips it)
            continue
        groups = match.groupdict()
        slot = "v" if groups.get("v") else "v2"
        value = (groups.get(slot) or "").rstrip(".:,*")
        if PLACEHOLDER_RE.fullmatch(value):  # redacted before (the hook log): keep its fp
            yield value, kind, used
        elif "[SECRET:" in value or _cuts_placeholder(text, match.start(slot), match.end(slot)):
            pos = match.start() + 1  # part of one: redaction must be idempotent
            continue
        elif value and _accept(strength, match, value):
            yield value, kind, used
        else:  # not a secret: what it took for a value may hold one
            pos = max(match.start(slot), match.start() + 1) if value else match.start() + 1
            continue
        pos = match.end()


_SHAPE_RES = [(kind, hints, _Lazy(pattern)) for kind, hints, pattern in SHAPES]
# shapes whose literal is not where a match starts
_UNANCHORED = frozenset({"slack_webhook", "azure_ad_secret"})


def _occurrences(text: str, literal: str) -> Iterator[int]:
    at = text.find(literal)
    while at >= 0:
        yield at
        at = text.find(literal, at + 1)


def find_shapes(text: str, shortcuts: bool = True) -> Iterator[Found]:
    for kind, hints, pattern in _SHAPE_RES:
        if not shortcuts:
            yield from ((m.group(0), kind, False) for m in pattern.finditer(text))
            continue
        present = [h for h in hints if h in text]
        if not present:
            continue
        if kind in _UNANCHORED:
            yield from ((m.group(0), kind, False) for m in pattern.finditer(text))
            continue
        # the literal opens the match: try the pattern where it occurs, not at every position
        # (a leading lookbehind keeps the regex engine from skipping ahead to it)
        starts = sorted({at for h in present for at in _occurrences(text, h)})
        end = -1
        for at in starts:
            if at < end:
                continue
            match = pattern.match(text, at)
            if match:
                end = match.end()
                yield match.group(0), kind, False
    for pattern in (_PEM_RE, _PUTTY_RE):
        for match in pattern.finditer(text):
            yield match.group(0).rstrip(" \t\r\n"), "private_key", False
    for match in _B64_PEM_RE.finditer(text):
        head = match.group(0)[:64]
        try:
            decoded = base64.b64decode(head[: len(head) // 4 * 4])
        except (binascii.Error, ValueError):
            continue
        if b"PRIVATE KEY" in decoded:
            yield match.group(0), "private_key", False


def canonical(value: str) -> str:
    """What is fingerprinted: a key block's body alone (line breaks, indentation and escaping
    differ between the file, a JSON record and a YAML block), else the value itself."""
    host = value.lower().find("hooks.slack.com/", 0, 24)
    if host >= 0:  # a webhook, with its scheme or without
        return value[host + 16 :]
    if value.startswith(("-----BEGIN", "PuTTY-User-Key-File")):
        if value.startswith("PuTTY"):
            value = value[value.find("Private-Lines:") :]
        text = re.sub(r"\\+u2192", "→", value)
        text = re.sub(r"\\+n", "\n", re.sub(r"\\+[rt]", " ", text))
        text = re.sub(r"-----(?:BEGIN|END)[A-Z0-9 ]*-----", "\n", text)
        body = []
        for line in text.split("\n"):
            line = re.sub(r"^\s*\d+(?:→|\t)", "", line)  # a numbered listing (Read, cat -n)
            if not re.match(r"\s*[A-Za-z-]+:", line):  # Proc-Type:, DEK-Info:, Private-Lines:
                body.append(line)
        return re.sub(r"[^A-Za-z0-9+/=]", "", "".join(body))
    return value


# -- views ----------------------------------------------------------------------------------------
_ESCAPE_RE = re.compile(r"\\(?:([\"\\/bfnrt])|u([0-9a-fA-F]{4}))")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _unescape_once(text: str) -> str:
    return _ESCAPE_RE.sub(
        lambda m: _ESCAPES[m.group(1)] if m.group(1) else chr(int(m.group(2), 16)), text
    )


def escape_once(text: str) -> str:
    """JSON string escaping, as a record's raw JSON holds a value (no quotes around it)."""
    return (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )


def views(text: str, depth: int = 2) -> list[str]:
    """The text, then its JSON-unescaped forms (a file's content inside a record's raw JSON,
    a JSON document inside a JSON string), as long as unescaping changes something."""
    out = [text]
    while len(out) <= depth and "\\" in out[-1]:
        unescaped = _unescape_once(out[-1])
        if unescaped == out[-1]:
            break
        out.append(unescaped)
    return out


def find_core(text: str, shortcuts: bool = True) -> list[Found]:
    """Every secret the rules of this module find in one view of a text."""
    # what (?i) folds: ſ->s, K->k (casefold), ı->i
    lowered = text.casefold().replace("\u0131", "i") if shortcuts else ""
    return [*find_shapes(text, shortcuts), *find_names(text), *find_named(text, lowered, shortcuts)]


# -- fingerprints and replacement (shared by `secrets.Redactor` and the hook) ---------------------
def fingerprint(key: bytes, value: str) -> str:
    """HMAC-SHA256 of the value's canonical form under the install's key, 16 hex digits."""
    data = canonical(value).encode("utf-8", "surrogateescape")
    return hmac.new(key, data, hashlib.sha256).hexdigest()[:16]


def replace_found(
    text: str, found: list[Found], fingerprint_of: Callable[[str], str]
) -> tuple[str, list[tuple[str, str, bool]]]:
    """The text with every found value (and its JSON-escaped forms, as a value found in an
    unescaped view appears in the text) replaced by `[SECRET:<kind>:<fp>]`, longest first so a
    secret that contains another is replaced whole; and (fp, kind, used) per value. A value
    that is a placeholder already keeps its fingerprint."""
    out: list[tuple[str, str, bool]] = []
    for value, kind, used in sorted(found, key=lambda f: -len(f[0])):
        placeholder = PLACEHOLDER_RE.fullmatch(value)
        if placeholder:
            out.append((placeholder.group(2), kind, used))
            continue
        fp = fingerprint_of(value)
        replacement = f"[SECRET:{kind}:{fp}]"
        once = escape_once(value)
        ascii_once = json.dumps(value)[1:-1]  # as JSON written with non-ASCII escaped (`\u2192`)
        forms = (value, once, escape_once(once), ascii_once, json.dumps(ascii_once)[1:-1])
        replaced = False
        for form in dict.fromkeys(forms):
            if form in text:
                text, replaced = text.replace(form, replacement), True
        if replaced:  # else it was part of a longer secret, replaced whole before
            out.append((fp, kind, used))
    return text, out


def redact_text(text: str, key: bytes) -> str:
    """`text` redacted by these rules alone (no detect-secrets): for the hook process."""
    found: list[Found] = []
    for view in views(text):
        found += find_core(view)
    if not found:
        return text
    return replace_found(text, list(dict.fromkeys(found)), lambda v: fingerprint(key, v))[0]


def load_or_create_key(path: Path) -> bytes:
    """The per-install HMAC key: 32 random bytes, created once with mode 0600."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    key = os.urandom(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_bytes()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key
