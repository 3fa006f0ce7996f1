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
from typing import Any

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.plugins.base import RegexBasedDetector

from agentaudit import paths

PLACEHOLDER_RE = re.compile(r"\[SECRET:[a-z0-9_]+:[0-9a-f]{16}\]")

# An AWS access key id names a key; the secret is the secret access key (AWS's own docs), and
# CloudTrail logs the id in every record. As the value of a JSON `accessKeyId` / `AccessKeyId`
# field it is an identifier (kept in `credential_id`), not a secret hit. Anywhere else (a
# command line, an env assignment, a config file) it is still redacted. The prefilter and
# `Redactor.find` mask these fields with the same function (docs/ARCHITECTURE.md).
KEY_ID_FIELD = r'(\\?"[aA]ccessKeyId\\?"\s*:\s*\\?")(?:AKIA|ASIA)[0-9A-Z]{16}(\\?")'
_KEY_ID_FIELD_RE = re.compile(KEY_ID_FIELD)
_KEY_ID_MASK = "KEYID"


def mask_key_id_fields(text: str) -> str:
    """Text with the access key ids of `accessKeyId` fields replaced by a neutral word."""
    # `_KEY_ID_FIELD_RE.sub`, but matched only where the literal is: the pattern has no literal
    # prefix, so `sub` tries every position of every CloudTrail record (the ingest's hot path).
    at = text.find("ccessKeyId")
    if at < 0:
        return text
    pieces, last = [], 0
    while at >= 0:
        # a match starts at the quote before `[aA]ccessKeyId` (an escaping backslash before
        # it is kept either way, so starting there gives the same text as `sub`)
        found = _KEY_ID_FIELD_RE.match(text, at - 2) if at >= 2 else None
        if found is None:
            at = text.find("ccessKeyId", at + 1)
            continue
        pieces += [text[last : found.start()], found.group(1), _KEY_ID_MASK, found.group(2)]
        last = found.end()
        at = text.find("ccessKeyId", last)
    return "".join(pieces) + text[last:] if pieces else text


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
            r"access_?key|secret_?access_?key|private_?key)\\?\"\s*:\s*\\?\"(?P<v>[^\"\\\s]{6,})\\?\""
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


# Literals each contextual pattern cannot match without (exact necessary conditions), so a
# pattern is skipped when its literals are absent: most raw provider records contain none and
# the regexes were most of the per-record ingest cost. Keyed by pattern text: a pattern edited
# later simply loses its shortcut. (case-sensitive literals, literals checked in lower case)
_LITERALS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    _CONTEXTUAL[0][1].pattern: ((), ("authorization",)),
    _CONTEXTUAL[1][1].pattern: ((), ("bearer",)),
    _CONTEXTUAL[2][1].pattern: ((), ("token", "api-key")),
    _CONTEXTUAL[3][1].pattern: (
        ("TOKEN", "SECRET", "PASSW", "APIKEY", "API_KEY", "ACCESS_KEY", "PRIVATE_KEY"),
        (),
    ),
    _CONTEXTUAL[4][1].pattern: (
        (),
        (
            "token",
            "passw",
            "secret",
            "apikey",
            "api_key",
            "accesskey",
            "access_key",
            "privatekey",
            "private_key",
        ),
    ),
    _CONTEXTUAL[5][1].pattern: (("--",), ()),
    _CONTEXTUAL[6][1].pattern: (("@",), ()),
}


def _may_match(pattern: re.Pattern[str], text: str, lowered: str) -> bool:
    literals = _LITERALS.get(pattern.pattern)
    if literals is None:
        return True
    exact, folded = literals
    return any(x in text for x in exact) or any(x in lowered for x in folded)


# detect-secrets' keyword-assignment detectors (Cloudant, IBM Cloud IAM, IBM COS HMAC,
# SoftLayer) cost ~470 us on a 1.3 KB record, most of the ingest time of provider logs. Each
# of their patterns needs `<key|pwd|pw|password|pass|token>["']?]? *<assignment> *["']?` and 24+
# characters of [a-z0-9_-] (in case-folded text), or, for the URL forms, the service name: the
# witnesses below. A detector is skipped only when no witness is in the text and its patterns
# are exactly those the witnesses were derived from (sha256 of the pattern texts, detect-secrets
# 1.5); any other version runs in full.
_ASSIGNMENT_WITNESS = re.compile(
    r"""(?:key|pwd|pw|password|pass|token)["']?\]? *(?:=|:|:=|=>| +|::) *["']?[a-z0-9_\-]{24}"""
)
_DETECTOR_WITNESSES: dict[str, tuple[str, tuple[str, ...]]] = {
    "CloudantDetector": ("e42b66772290bc2e", ("cloudant",)),
    "IbmCloudIamDetector": ("655a58af3964f54e", ()),
    "IbmCosHmacDetector": ("8dc9ad5623b98138", ()),
    "SoftlayerDetector": ("360d7c2a706fa50f", ("softlayer",)),
}
SHORTCUTS = True  # tests turn this off to compare with the full scan


def _patterns_digest(detector: RegexBasedDetector) -> str:
    text = "\x1f".join(p.pattern for p in detector.denylist)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@lru_cache(maxsize=1)
def _skippable() -> dict[int, tuple[str, ...]]:
    """id(detector) -> its literal witnesses, for detectors whose patterns are the known ones."""
    out: dict[int, tuple[str, ...]] = {}
    for detector in _library_detectors():
        known = _DETECTOR_WITNESSES.get(type(detector).__name__)
        if known and _patterns_digest(detector) == known[0]:
            out[id(detector)] = known[1]
    return out


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
        text = mask_key_id_fields(text)
        lowered = text.casefold().replace("\u0131", "i")  # what (?i) folds: ſ->s, K->k, ı->i
        for kind, pattern in _CONTEXTUAL:
            if SHORTCUTS and not _may_match(pattern, text, lowered):
                continue
            for match in pattern.finditer(text):
                value = match.group("v")
                # A variable reference ($TOKEN, ${TOKEN}) names a secret; it is not one.
                if not value.startswith(("[SECRET:", "$")):
                    found.append((value, kind, kind != "json_secret"))
        skippable = _skippable() if SHORTCUTS else {}
        assignment = bool(skippable) and _ASSIGNMENT_WITNESS.search(lowered) is not None
        for detector in _library_detectors():
            literals = skippable.get(id(detector))
            if literals is not None and not assignment and not any(x in lowered for x in literals):
                continue  # none of this detector's patterns can match (see _DETECTOR_WITNESSES)
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
# pattern (google-re2, linear time) that matches a SUPERSET of what the detectors match
# rules most texts out in one pass: lookarounds and named groups are dropped, repetition bounds
# RE2 rejects are opened (`{50,1024}` -> `{50,}`), and multiline mode makes ^/$ match more, all
# of which can only widen the match. Texts it flags still go through `find`, unchanged.
# Keep it in step with `Redactor.find`: a detector added there that is not one of these regexes
# must be added here too (or make `may_contain_secrets` return True), or it would be skipped.
_LOOKAROUND = re.compile(r"\(\?<?[=!](?:[^()\\]|\\.|\((?:[^()\\]|\\.)*\))*\)")


# A pattern that opens with a counted class before a literal (`[0-9a-z]{32}-us[0-9]{1,2}`)
# keeps RE2's DFA counting at every position of every text; dropping the count leaves a
# pattern that every match of the original still contains (a superset), a quarter faster.
_LEADING_COUNT = re.compile(r"^\[[^\]\\]+\]\{\d+(?:,\d*)?\}(?=-)")


def _widened(pattern: str) -> str:
    body = _LOOKAROUND.sub("", pattern)
    body = re.sub(r"\{(\d+),(\d{4,})\}", r"{\1,}", body)
    body = _LEADING_COUNT.sub("", body)
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


# RE2 builds its DFA lazily as it scans; one compiled object per process keeps that DFA warm
# across batches (pyarrow's regex kernels recompile per call: about 3x slower on 2 MB batches).
_PREFILTER_MEMORY = 64 << 20


@lru_cache(maxsize=1)
def _prefilter() -> Any:
    """The compiled prefilter, or None when RE2 cannot take the pattern (no prefilter)."""
    import re2

    options = re2.Options()
    options.max_mem = _PREFILTER_MEMORY
    options.never_capture = True  # a yes/no answer: no submatch work on the texts it flags
    try:
        return re2.compile(_prefilter_pattern(), options)
    except re2.error:
        return None


def may_contain_secrets(texts: list[str]) -> list[bool]:
    """False only for texts no detector can match; True for any text it cannot scan."""
    pattern = _prefilter()
    if pattern is None:
        return [True] * len(texts)
    flags = []
    for text in texts:
        try:
            flags.append(pattern.search(mask_key_id_fields(text)) is not None)
        except UnicodeEncodeError:  # lone surrogates: RE2 takes UTF-8 only, so scan it
            flags.append(True)
    return flags


@lru_cache(maxsize=4)
def _prefilter_and(markers: str) -> Any:
    """The prefilter and `markers` as one RE2 set: one scan answers both."""
    import re2

    options = re2.Options()
    options.max_mem = _PREFILTER_MEMORY
    options.never_capture = True
    try:
        both = re2.Set.SearchSet(options)
        both.Add(_prefilter_pattern())
        both.Add(markers)
        both.Compile()
    except re2.error:
        return None
    return both


def scan_texts(texts: list[str], markers: str) -> tuple[list[bool], list[bool]]:
    """For each text: whether it may contain a secret (as `may_contain_secrets`) and whether
    it matches `markers` (another cheap question enrichment asks of the same texts), in one
    RE2 pass per text. Texts it cannot scan answer True to both."""
    pattern = _prefilter_and(markers)
    if pattern is None:
        return [True] * len(texts), [True] * len(texts)
    secrets, marked = [], []
    for text in texts:
        try:
            found = pattern.Match(mask_key_id_fields(text)) or ()
        except UnicodeEncodeError:  # lone surrogates: RE2 takes UTF-8 only, so scan it
            found = (0, 1)
        secrets.append(0 in found)
        marked.append(1 in found)
    return secrets, marked


class NoSecrets(Redactor):
    """For texts `may_contain_secrets` ruled out: returns them as they are, without scanning."""

    def redact(self, text: str | None) -> Redaction:
        return Redaction(text or "")


@lru_cache(maxsize=4)
def redactor_for(key_file: str | None = None) -> Redactor:
    return Redactor(load_or_create_key(Path(key_file) if key_file else None))
