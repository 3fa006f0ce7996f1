"""Secrets never reach the store in clear: redact them, keep a keyed fingerprint.

Every secret found is replaced by `[SECRET:<type>:<fp>]`, where `fp` is HMAC-SHA256 under a
per-install key (created on first use, mode 0600). The same token read from a file and later
sent in a `curl` header gets the same fingerprint, so its path can be followed across sources
without anyone being able to recover it from the store, an export or an alert.

Detection = detect-secrets' regex detectors (known token formats) plus contextual patterns
that detect-secrets does not cover for command lines (Authorization headers, `*_TOKEN=`,
`--token`, passwords in URLs).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets as _random
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.plugins.base import RegexBasedDetector

from agentaudit import paths

PLACEHOLDER_RE = re.compile(r"\[SECRET:[a-z0-9_]+:[0-9a-f]{16}\]")
_NOT_SECRETS = {"IPPublicDetector"}  # an IP address is not a credential

# Hand-written: detect-secrets has no detector for these command-line and header shapes.
# (type, pattern); group "v" is the secret value.
_CONTEXTUAL: list[tuple[str, re.Pattern[str]]] = [
    (
        "bearer_token",
        re.compile(r"(?i)\bauthorization\s*:\s*(?:bearer|token|basic)\s+(?P<v>[^\s'\"\\]{6,})"),
    ),
    ("bearer_token", re.compile(r"(?i)\bbearer\s+(?P<v>[A-Za-z0-9._~+/=-]{8,})")),
    (
        "api_token_header",
        re.compile(
            r"(?i)\b(?:team-access-token|project-access-token|x-api-key|private-token|"
            r"x-auth-token|api-key)\s*:\s*(?P<v>[^\s'\"\\]{6,})"
        ),
    ),
    (
        "env_secret",
        re.compile(
            r"\b[A-Za-z0-9_]*(?:TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_KEY|PRIVATE_KEY)"
            r"[A-Za-z0-9_]*\s*=\s*['\"]?(?P<v>[^\s'\"\\$][^\s'\"\\]{5,})"
        ),
    ),
    (
        "json_secret",
        re.compile(
            r"(?i)\\?\"(?:[a-z0-9_]*token|password|passwd|secret|client_secret|api_?key|"
            r"access_?key|private_?key)\\?\"\s*:\s*\\?\"(?P<v>[^\"\\\s]{6,})\\?\""
        ),
    ),
    (
        "cli_secret",
        re.compile(
            r"(?i)--(?:token|password|passwd|api-key|apikey|secret|access-token|auth-token)"
            r"(?:=|\s+)['\"]?(?P<v>[^\s'\"\\$-][^\s'\"\\]{5,})"
        ),
    ),
    ("url_password", re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@'\"]+:(?P<v>[^\s@/'\"]{3,})@")),
]


@dataclass(slots=True)
class Redaction:
    text: str
    fingerprints: list[str] = field(default_factory=list)  # every secret, in order of appearance
    credentials: list[str] = field(default_factory=list)  # secrets in a position of use


def load_or_create_key(path: Path | None = None) -> bytes:
    """The per-install HMAC key: 32 random bytes, created once with mode 0600."""
    path = path or paths.key_path()
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    key = _random.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_bytes()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


@lru_cache(maxsize=1)
def _library_detectors() -> tuple[RegexBasedDetector, ...]:
    classes = get_mapping_from_secret_type_to_class().values()
    return tuple(
        cls()
        for cls in classes
        if issubclass(cls, RegexBasedDetector) and cls.__name__ not in _NOT_SECRETS
    )


def _type_name(detector: RegexBasedDetector) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(detector).__name__.replace("Detector", "")).lower()


def _detector_values(detector: RegexBasedDetector, text: str) -> list[str]:
    """The secret each match covers. detect-secrets' own `analyze_string` yields findall()
    results, i.e. only the capture group when a pattern has one: for GitHub and GitLab tokens
    that is the prefix (`ghp`, `glpat`) and the token itself would stay in clear. Take the
    longest group when it is long enough to be the secret, else the whole match."""
    values: list[str] = []
    for pattern in detector.denylist:
        for match in pattern.finditer(text):
            groups = [g for g in match.groups() if g]
            longest = max(groups, key=len) if groups else ""
            value = longest if len(longest) >= 8 else match.group(0).strip(" \t\r\n'\"=:,;")
            if value and value not in values:
                values.append(value)
    return values


class Redactor:
    """Finds secrets in text and replaces them with typed, fingerprinted placeholders."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._fp_cache: dict[str, str] = {}

    def fingerprint(self, secret: str) -> str:
        fp = self._fp_cache.get(secret)
        if fp is None:
            digest = hmac.new(self._key, secret.encode("utf-8", "surrogateescape"), hashlib.sha256)
            fp = self._fp_cache[secret] = digest.hexdigest()[:16]
        return fp

    def find(self, text: str) -> list[tuple[str, str, bool]]:
        """(secret value, type, used-as-credential) for every secret in text."""
        found: list[tuple[str, str, bool]] = []
        for kind, pattern in _CONTEXTUAL:
            for match in pattern.finditer(text):
                value = match.group("v")
                # A variable reference ($TOKEN, ${TOKEN}) names a secret; it is not one.
                if not value.startswith(("[SECRET:", "$")):
                    found.append((value, kind, kind != "json_secret"))
        for detector in _library_detectors():
            for value in _detector_values(detector, text):
                if value and not PLACEHOLDER_RE.search(value):
                    found.append((value, _type_name(detector), False))
        return found

    def redact(self, text: str | None) -> Redaction:
        if not text:
            return Redaction(text or "")
        found = self.find(text)
        if not found:
            return Redaction(text)
        fingerprints: list[str] = []
        credentials: list[str] = []
        # Longest first, so a secret that contains another is replaced whole.
        for value, kind, used in sorted(found, key=lambda f: -len(f[0])):
            fp = self.fingerprint(value)
            if value in text:
                text = text.replace(value, f"[SECRET:{kind}:{fp}]")
            if fp not in fingerprints:
                fingerprints.append(fp)
            if used and fp not in credentials:
                credentials.append(fp)
        return Redaction(text, fingerprints, credentials)


# -- batch prefilter ---------------------------------------------------------------------------
# Scanning every text with every detector (~50 Python regexes) is the ingest hot path. One RE2
# pattern (pyarrow, vectorised, linear time) that matches a SUPERSET of what the detectors match
# rules most texts out in one pass: lookarounds and named groups are dropped, repetition bounds
# RE2 rejects are opened (`{50,1024}` -> `{50,}`), and multiline mode makes ^/$ match more, all
# of which can only widen the match. Texts it flags still go through `find`, unchanged.
# Keep it in step with `Redactor.find`: a detector added there that is not one of these regexes
# must be added here too (or make `may_contain_secrets` return True), or it would be skipped.
_LOOKAROUND = re.compile(r"\(\?<?[=!](?:[^()\\]|\\.|\((?:[^()\\]|\\.)*\))*\)")


def _widened(pattern: str) -> str:
    body = _LOOKAROUND.sub("", pattern)
    body = re.sub(r"\{(\d+),(\d{4,})\}", r"{\1,}", body)
    return body.replace("(?P<v>", "(")


@lru_cache(maxsize=1)
def _prefilter_pattern() -> str:
    parts = []
    for detector in _library_detectors():
        for pattern in detector.denylist:
            flags = "".join(c for c, f in (("i", re.I), ("s", re.S)) if pattern.flags & f)
            body = _widened(pattern.pattern)
            parts.append(f"(?{flags}:{body})" if flags else f"(?:{body})")
    parts += [f"(?:{_widened(pattern.pattern)})" for _kind, pattern in _CONTEXTUAL]
    parts.append(re.escape("[SECRET:"))  # already redacted text keeps its fingerprints
    return "(?m)" + "|".join(parts)


def may_contain_secrets(texts: list[str]) -> list[bool]:
    """False only for texts no detector can match (one vectorised pass over the batch)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not texts:
        return []
    try:
        column = pa.array(texts, pa.string())
    except (pa.ArrowException, UnicodeError):  # e.g. lone surrogates: scan them all
        return [True] * len(texts)
    try:
        return pc.match_substring_regex(column, _prefilter_pattern()).to_pylist()
    except pa.ArrowException:  # a pattern RE2 cannot take: no prefilter, scan everything
        return [True] * len(texts)


class NoSecrets(Redactor):
    """For texts `may_contain_secrets` ruled out: returns them as they are, without scanning."""

    def redact(self, text: str | None) -> Redaction:
        return Redaction(text or "")


@lru_cache(maxsize=4)
def redactor_for(key_file: str | None = None) -> Redactor:
    return Redactor(load_or_create_key(Path(key_file) if key_file else None))
