"""Secrets never reach the store in clear: redact them, keep a keyed fingerprint.

Every secret found is replaced by `[SECRET:<type>:<fp>]`, where `fp` is HMAC-SHA256 under a
per-install key (created on first use, mode 0600). The same token read from a file and later
sent in a `curl` header gets the same fingerprint, so its path can be followed across sources
without anyone being able to recover it from the store, an export or an alert. A placeholder
already in the text (the hook log is redacted when written) keeps its fingerprint.

Detection, on the text and on its JSON-unescaped forms (`secret_rules.views`):
- `secret_rules`: vendor token shapes, whole PEM blocks, values in a secret's position;
- detect-secrets' regex detectors (known token formats);
- in file contents (a view with line breaks: a file as `cat` or Read printed it, a heredoc),
  detect-secrets' keyword detector and its base64 high-entropy detector. An entropy-only
  finding is redacted and fingerprinted but is `weak`: reading it is not credential access.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.filters import heuristic
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString
from detect_secrets.plugins.keyword import KeywordDetector

from agentaudit import paths
from agentaudit.enrich import secret_rules
from agentaudit.enrich.secret_rules import PLACEHOLDER_RE, Found, views

__all__ = ["PLACEHOLDER_RE", "Redaction", "Redactor", "may_contain_secrets", "redactor_for"]

# An AWS access key id names a key; the secret is the secret access key (AWS's own docs), and
# CloudTrail logs the id in every record. As the value of a JSON `accessKeyId` / `AccessKeyId`
# field it is an identifier (kept in `credential_id`), not a secret hit. Anywhere else (a
# command line, an env assignment, a config file) it is still redacted. The prefilter and
# `Redactor.find` mask these fields with the same function (docs/ARCHITECTURE.md).
KEY_ID_FIELD = r'(\\?"[aA]ccessKeyId\\?"\s*:\s*\\?")(?:AKIA|ASIA)[0-9A-Z]{16}(\\?")'
_KEY_ID_FIELD_RE = re.compile(KEY_ID_FIELD)
_KEY_ID_MASK = ""  # empty: no value for a rule or the prefilter to see


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


# Left out: an IP address is not a credential; detect-secrets' JWT pattern ends lazily before
# the signature and its private-key patterns match the header line only (a fingerprint every
# key of a kind would share): `secret_rules` takes the whole token and the whole block.
_NOT_SECRETS = {"IPPublicDetector", "JwtTokenDetector", "PrivateKeyDetector"}

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
    weak: list[str] = field(default_factory=list)  # found by entropy alone


def load_or_create_key(path: Path | None = None) -> bytes:
    """The per-install HMAC key: 32 random bytes, created once with mode 0600."""
    return secret_rules.load_or_create_key(path or paths.key_path())


@lru_cache(maxsize=1)
def _library_detectors() -> tuple[RegexBasedDetector, ...]:
    classes = get_mapping_from_secret_type_to_class().values()
    return tuple(
        cls()
        for cls in classes
        if issubclass(cls, RegexBasedDetector) and cls.__name__ not in _NOT_SECRETS
    )


def _type_name(detector: Any) -> str:
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


_KEYWORD = KeywordDetector()
_ENTROPY = Base64HighEntropyString()  # detect-secrets' default limit, 4.5 bits per character
_MIN_ENTROPY_LENGTH = 20
_KEYWORD_HINT = re.compile(r"(?i)key|pass|pwd|secret|contrase")  # detect-secrets' DENYLIST stems
_QUOTED_RUN = re.compile(r"[\"'][A-Za-z0-9+/=_-]{20}")


def _line_of(text: str, value: str) -> str:
    at = text.find(value)
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    return text[start : end if end >= 0 else len(text)]


def _unescaped_quote(text: str, at: int, step: int) -> int:
    """The position of the next `"` from `at` (step 1) or before it (step -1) that no odd run
    of backslashes escapes; -1 when there is none."""
    while True:
        at = text.find('"', at) if step > 0 else text.rfind('"', 0, at)
        if at < 0:
            return -1
        run = 0
        while at - run > 0 and text[at - run - 1] == "\\":
            run += 1
        if run % 2 == 0:
            return at
        at = at + 1 if step > 0 else at


def _json_strings_with_line_breaks(text: str) -> list[str]:
    """The contents of the JSON string literals in `text` that hold an escaped line break
    (`\\n`, at this level or deeper): found from each `\\n` out to the quotes around it (a
    regex over every literal of a large record was the costly way)."""
    out: list[str] = []
    at = text.find("\\n")
    while at >= 0:
        start, end = _unescaped_quote(text, at, -1), _unescaped_quote(text, at, 1)
        if start < 0 or end < 0:
            break
        out.append(text[start + 1 : end])
        at = text.find("\\n", end + 1)
    return out


def file_contents(text: str, depth: int = 2) -> list[str]:
    """The parts of a text that have line structure: the text itself when it has line breaks
    (a command with a heredoc, a prompt), and each JSON string in it that holds one, unescaped
    (a file printed inside a record's raw JSON), to `depth` levels of nesting."""
    out = [text] if "\n" in text else []
    if depth and "\\n" in text:
        for literal in _json_strings_with_line_breaks(text):
            out += file_contents(views(literal, depth=1)[-1], depth - 1)
    return out


def _file_content(text: str) -> list[Found]:
    """detect-secrets' keyword and entropy detectors on text with line structure, where a
    file's content sits. Their own false-positive filters apply (templates, `$VAR`, indirect
    references, UUIDs, sequences, `*_id = ...`)."""
    found: list[Found] = []
    lines = text.split("\n")
    # only the lines a detector can match (its regexes are the costly part): a denylist word
    # for the keyword detector, a quoted run of 20 charset characters for the entropy one
    keyed = "\n".join(ln for ln in lines if _KEYWORD_HINT.search(ln))
    quoted = "\n".join(ln for ln in lines if _QUOTED_RUN.search(ln))
    for value in _KEYWORD.analyze_string(keyed) if keyed else ():
        line = _line_of(text, value)
        if (
            value
            and not PLACEHOLDER_RE.search(value)
            and not heuristic.is_templated_secret(value)
            and not heuristic.is_prefixed_with_dollar_sign(value)
            and not heuristic.is_indirect_reference(line)
            and secret_rules.tokenish(value, 6)
        ):
            found.append((value, "secret_keyword", False))
    for value in _ENTROPY.analyze_string(quoted) if quoted else ():
        if (
            len(value) >= _MIN_ENTROPY_LENGTH
            and "SECRET:" not in value
            and _ENTROPY.calculate_shannon_entropy(value) > _ENTROPY.entropy_limit
            and not heuristic.is_sequential_string(value)
            and not heuristic.is_potential_uuid(value)
            and not heuristic.is_likely_id_string(value, _line_of(text, value))
        ):
            found.append((value, "high_entropy_string", False))
    return found


class Redactor:
    """Finds secrets in text and replaces them with typed, fingerprinted placeholders."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._fp_cache: dict[str, str] = {}

    def fingerprint(self, secret: str) -> str:
        fp = self._fp_cache.get(secret)
        if fp is None:
            fp = self._fp_cache[secret] = secret_rules.fingerprint(self._key, secret)
        return fp

    def find(self, text: str) -> list[Found]:
        """(secret value, type, used-as-credential) for every secret in text and in its
        unescaped forms. Values are as they appear in the view they were found in."""
        families = self._families(text)
        return list(
            dict.fromkeys([*self._find_core(text, families), *self._find_rest(text, families)])
        )

    @staticmethod
    def _families(text: str) -> tuple[bool, bool, bool]:
        """Which families of detectors to run: each only where its part of the prefilter
        matches (core, library, content)."""
        masked = mask_key_id_fields(text)
        core, library, content = (not SHORTCUTS or _family_matches(f, masked) for f in _FAMILIES)
        return core, library, content

    def _find_core(self, text: str, families: tuple[bool, bool, bool]) -> list[Found]:
        found: list[Found] = []
        if families[0]:
            for view in views(mask_key_id_fields(text)):
                # mask again: an escaped record inside a record
                found += secret_rules.find_core(mask_key_id_fields(view), SHORTCUTS)
        return found

    def _find_rest(self, text: str, families: tuple[bool, bool, bool]) -> list[Found]:
        found: list[Found] = []
        text = mask_key_id_fields(text)
        if families[1]:
            # detect-secrets' patterns are token shapes, which unescaping leaves whole (and
            # quotes it makes plain): its most unescaped form is enough
            found += self._library(mask_key_id_fields(views(text)[-1]))
        if families[2]:
            for part in file_contents(text):
                found += _file_content(part)
        return found

    def _library(self, text: str) -> list[Found]:
        lowered = text.casefold().replace("\u0131", "i")  # what (?i) folds: ſ->s, K->k, ı->i
        skippable = _skippable() if SHORTCUTS else {}
        assignment = bool(skippable) and _ASSIGNMENT_WITNESS.search(lowered) is not None
        found: list[Found] = []
        for detector in _library_detectors():
            literals = skippable.get(id(detector))
            if literals is not None and not assignment and not any(x in lowered for x in literals):
                continue  # none of this detector's patterns can match (see _DETECTOR_WITNESSES)
            for value in _detector_values(detector, text):
                if value and not PLACEHOLDER_RE.search(value):
                    found.append((value, _type_name(detector), False))
        return found

    def redact(self, text: str | None) -> Redaction:
        if not text or (SHORTCUTS and not may_contain_secrets([text])[0]):
            return Redaction(text or "")
        earlier = [m.group(2) for m in PLACEHOLDER_RE.finditer(text)]
        # this module's rules first, as the hook redacts its log, so a secret gets the same
        # placeholder and fingerprint both ways; detect-secrets then on what they left
        families = self._families(text)
        found = list(dict.fromkeys(self._find_core(text, families)))
        redacted, hits = secret_rules.replace_found(text, found, self.fingerprint)
        rest = list(dict.fromkeys(self._find_rest(redacted, families)))
        redacted, more = secret_rules.replace_found(redacted, rest, self.fingerprint)
        hits += more
        if not hits and not earlier:
            return Redaction(text)
        result = Redaction(redacted)
        for fp, _kind, _used in hits:
            if fp not in result.fingerprints:
                result.fingerprints.append(fp)
        # used: in a position of use in the clear text or, as a placeholder, in the redacted
        # one (as the hook log holds it), in order of appearance
        used = {fp for fp, _kind, used in hits if used}
        used.update(secret_rules.used_placeholders(redacted))
        result.credentials = sorted(used, key=lambda fp: _first_at(redacted, fp))
        result.fingerprints += [
            fp for fp in dict.fromkeys(earlier) if fp not in result.fingerprints
        ]
        strong = {fp for fp, kind, _used in hits if kind != "high_entropy_string"}
        result.weak = [fp for fp, kind, _u in hits if fp not in strong and fp not in earlier]
        result.weak = list(dict.fromkeys(result.weak))
        return result


def _first_at(text: str, fp: str) -> int:
    at = text.find(f":{fp}]")
    return at if at >= 0 else len(text)


_FINGERPRINT_FIELDS = re.compile(
    r'\\*"(?:credential_fp|secret_fps)\\*"\s*:\s*(?:\[[^\]]*\]|\\*"[0-9a-f]{16}\\*"|null)'
)


def scrub(
    text: str | None, redactor: Redactor | None = None, keep: Iterable[str] = ()
) -> str | None:
    """Text leaving the tool (a page, an export line, a log line) with any secret redacted:
    the second gate, behind the redaction at ingest. Placeholders already there are left as
    they are and cost nothing: only a text the prefilter flags without them is scanned.
    `keep`: identifiers the store holds in clear (an access key id, `credential_id`) that the
    gate would take for a secret by their shape; they are held out of the scan."""
    if not text:
        return text
    held = [value for value in dict.fromkeys(keep) if value and value in text]
    if held:
        slots = [f"agentaudit-kept-{n}-" for n in range(len(held))]
        for value, slot in zip(held, slots, strict=True):
            text = text.replace(value, slot)
        text = scrub(text, redactor) or ""
        for value, slot in zip(held, slots, strict=True):
            text = text.replace(slot, value)
        return text
    # a placeholder stands as `()`, which no rule reads as a value or as part of one, and
    # agentaudit's own fingerprint fields are no secret: only what is left can flag the text
    neutral = _FINGERPRINT_FIELDS.sub("", PLACEHOLDER_RE.sub("()", text))
    if not may_contain_secrets([neutral])[0]:
        return text
    return (redactor or redactor_for()).redact(text).text


def scrub_lines(lines: list[str], redactor: Redactor | None = None, chunk: int = 64) -> list[str]:
    """`scrub` of each line (export lines: no line break inside one), prefiltered `chunk` lines
    at a time. The prefilter is a pattern search (a match inside one line is a match inside
    their join, `^`/`$` being multiline) and an entropy search that `may_contain_secrets` runs
    on a text with a backslash or quote: on the join when any line has one. A chunk cleared
    is clean line by line; a flagged chunk is scrubbed line by line."""
    pattern, entropy = _prefilter(), _entropy_prefilter()
    out: list[str] = []
    for start in range(0, len(lines), chunk):
        part = lines[start : start + chunk]
        joined = "\n".join(part)
        if "[SECRET:" in joined:  # literal checks first: the substitutions scan every position
            joined = PLACEHOLDER_RE.sub("()", joined)
        if "credential_fp" in joined or "secret_fps" in joined:
            joined = _FINGERPRINT_FIELDS.sub("", joined)
        flagged = True
        if pattern is not None and entropy is not None:
            text = _re2_text(mask_key_id_fields(joined))
            try:
                flagged = pattern.search(text) is not None or (
                    ("\\" in text or "'" in text) and entropy.search(text) is not None
                )
            except UnicodeEncodeError:  # lone surrogates: RE2 takes UTF-8 only, so scan it
                flagged = True
        out += [scrub(line, redactor) or line for line in part] if flagged else part
    return out


class SecretFilter(logging.Filter):
    """A logging filter that scrubs each record's message and traceback (the watch's log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage()), None
        if record.exc_info:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


# -- batch prefilter ---------------------------------------------------------------------------
# Scanning every text with every detector is the ingest hot path. One RE2 pattern (google-re2,
# linear time) that matches a SUPERSET of what the detectors match rules most texts out in one
# pass: lookarounds, back references and named groups are dropped, repetition bounds RE2
# rejects are opened (`{50,1024}` -> `{50,}`), and multiline mode makes ^/$ match more, all of
# which can only widen the match. Texts it flags still go through `find`, unchanged. The rules
# match escaped text too (`\\"`, `\\n`), so a pattern that matches a view matches the text.
# Keep it in step with `Redactor.find`: a detector added there that is not one of these regexes
# must be added here too (or make `may_contain_secrets` return True), or it would be skipped.
_LOOKAROUND = re.compile(r"\(\?<?[=!](?:[^()\\]|\\.|\((?:[^()\\]|\\.)*\))*\)")


# A pattern that opens with a counted class before a literal (`[0-9a-z]{32}-us[0-9]{1,2}`)
# keeps RE2's DFA counting at every position of every text; dropping the count leaves a
# pattern that every match of the original still contains (a superset), a quarter faster.
_LEADING_COUNT = re.compile(r"^\[[^\]\\]+\]\{\d+(?:,\d*)?\}(?=-)")


# Superset witnesses for the file-content detectors, which run on text with line structure: a
# keyword of detect-secrets' denylist before an assignment or a quote (`FOLLOWED_BY_*` and
# `PRECEDED_BY_*` in detect_secrets/plugins/keyword.py), quoted inside a JSON string (escaped)
# or single-quoted, or on a line of a text with line breaks (`\x1e` separates the columns the
# prefilter reads as one text).
_DENYLIST = (
    r"(?:api_?key|auth_?key|service_?key|account_?key|db_?key|database_?key|priv_?key"
    r"|private_?key|client_?key|db_?pass|database_?pass|key_?pass|password|passwd|pwd|secret"
    r"|contrase(?:ñ|n)a)"
)
_ASSIGN = r"(?:\\*[\]'\"]){0,2}\s*(?::|={1,3}|!==?|=>?)\s*"
_INNER_QUOTE = r"(?:\\+\"|'|`)"
_KEYWORD_WITNESSES = (
    rf"(?i){_DENYLIST}\w*{_ASSIGN}{_INNER_QUOTE}",
    rf"(?i){_DENYLIST}\w*[^\s]{{0,50}}\s*{_INNER_QUOTE}[^\n'\"`]*{_INNER_QUOTE};",
    rf"(?i){_INNER_QUOTE}\s*[!=]{{2,3}}\s*\w*{_DENYLIST}",
    rf"(?i)\n[^\n\x1e]*{_DENYLIST}[^\n\x1e]*[\"'`]",
    rf"(?i){_DENYLIST}[^\n\x1e]*[\"'`][^\n\x1e]*\n",
)
# ... and a quoted run of the entropy detector's charset long enough to count. Its own RE2:
# `{20,}` of a broad class beside the other patterns multiplies the main DFA's states.
_B64_RUN = r"[A-Za-z0-9+/=_-]{20,}"
_ENTROPY_WITNESS = (
    rf"(?:\\+\"|'){_B64_RUN}(?:\\+\"|')|\n[^\n\x1e]*[\"']{_B64_RUN}[\"']"
    rf"|[\"']{_B64_RUN}[\"'][^\n\x1e]*\n"
)
_COUNT = re.compile(r"(?<!\\)\{(\d+)(?:(,)(\d*))?\}")
# RE2's DFA unrolls counts, and counts of broad classes in patterns tried side by side multiply
# its states: ranges such as `{0,60}` or `{36,251}` exhaust its memory (it then falls back to
# the NFA, a hundred times slower). Counts are opened to at least `_MAX_COUNT` (a superset).
_MAX_COUNT = 8


def _opened(match: re.Match[str]) -> str:
    low, comma, high = int(match.group(1)), match.group(2), match.group(3)
    if low <= _MAX_COUNT and (not comma or (high and int(high) <= _MAX_COUNT)):
        return match.group(0)
    low = min(low, _MAX_COUNT)
    return "*" if low == 0 else "+" if low == 1 else f"{{{low},}}"


def _widened(pattern: str, open_counts: bool = True) -> str:
    """`pattern` as RE2 takes it, matching at least what it matches. detect-secrets' own
    patterns keep their small counts (`open_counts` False): opened, `.{0,20}` is `.*`."""
    body = _LOOKAROUND.sub("", pattern)
    body = re.sub(r"\\[1-9]", "", body)  # a back reference: drop it (superset)
    body = _LEADING_COUNT.sub("", body)
    if open_counts:
        body = _COUNT.sub(_opened, body)
    return re.sub(r"\(\?P<\w+>", "(", re.sub(r"\{(\d+),(\d{4,})\}", r"{\1,}", body))


_FAMILIES = ("core", "library", "content")


@lru_cache(maxsize=1)
def _family_parts() -> dict[str, list[str]]:
    """The prefilter's alternatives by the family of detectors they stand for."""
    library = []
    for detector in _library_detectors():
        for pattern in detector.denylist:
            flags = "".join(c for c, f in (("i", re.I), ("s", re.S)) if pattern.flags & f)
            body = _widened(pattern.pattern, open_counts=False)
            library.append(f"(?{flags}:{body})" if flags else f"(?:{body})")
    core = [p for _kind, _hints, p in secret_rules.SHAPES]
    core += [p.pattern for p in secret_rules.KEY_BLOCKS]
    core += [p.pattern for _kind, p, _used, _strength in secret_rules.NAMED]
    core.append(secret_rules.NAME_WITNESS)
    return {
        # already redacted text keeps its fingerprints: the core rules read placeholders
        "core": [f"(?:{_widened(p)})" for p in core] + [re.escape("[SECRET:")],
        "library": library,
        "content": [f"(?:{_widened(p)})" for p in _KEYWORD_WITNESSES],
    }


@lru_cache(maxsize=1)
def _prefilter_pattern() -> str:
    return "(?m)" + "|".join(p for f in _FAMILIES for p in _family_parts()[f])


@lru_cache(maxsize=4)
def _family_prefilter(family: str) -> Any:
    return _compiled("(?m)" + "|".join(_family_parts()[family]))


# Python's (?i) matches `ı`, `ſ` and the Kelvin sign as i, s and k; RE2's does not: fold them
# before an RE2 search, or the prefilter would rule out what the rules then match
_RE2_FOLD = str.maketrans({"\u0131": "i", "\u017f": "s", "\u212a": "k"})


def _re2_text(text: str) -> str:
    return text if text.isascii() else text.translate(_RE2_FOLD)


def _family_matches(family: str, text: str) -> bool:
    """May this family of detectors find something in `text`? (True when RE2 cannot say.)"""
    pattern = _family_prefilter(family)
    text = _re2_text(text)
    try:
        if pattern is not None and pattern.search(text) is not None:
            return True
        if family == "content":
            entropy = _entropy_prefilter()
            return entropy is None or entropy.search(text) is not None
        return pattern is None
    except UnicodeEncodeError:
        return True


# RE2 builds its DFA lazily as it scans; one compiled object per process keeps that DFA warm
# across batches (pyarrow's regex kernels recompile per call: about 3x slower on 2 MB batches).
_PREFILTER_MEMORY = 64 << 20


def _compiled(pattern: str) -> Any:
    import re2

    options = re2.Options()
    options.max_mem = _PREFILTER_MEMORY
    options.never_capture = True  # a yes/no answer: no submatch work on the texts it flags
    try:
        return re2.compile(pattern, options)
    except re2.error:
        return None


@lru_cache(maxsize=1)
def _prefilter() -> Any:
    """The compiled prefilter, or None when RE2 cannot take the pattern (no prefilter)."""
    return _compiled(_prefilter_pattern())


@lru_cache(maxsize=1)
def _entropy_prefilter() -> Any:
    return _compiled(_ENTROPY_WITNESS)


def may_contain_secrets(texts: list[str]) -> list[bool]:
    """False only for texts no detector can match; True for any text it cannot scan."""
    pattern, entropy = _prefilter(), _entropy_prefilter()
    if pattern is None or entropy is None:
        return [True] * len(texts)
    flags = []
    for text in texts:
        text = _re2_text(mask_key_id_fields(text))
        try:
            found = pattern.search(text) is not None or (
                ("\\" in text or "'" in text or "\n" in text) and entropy.search(text) is not None
            )
        except UnicodeEncodeError:  # lone surrogates: RE2 takes UTF-8 only, so scan it
            found = True
        flags.append(found)
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
    pattern, entropy = _prefilter_and(markers), _entropy_prefilter()
    if pattern is None or entropy is None:
        return [True] * len(texts), [True] * len(texts)
    secrets, marked = [], []
    for text in texts:
        text = _re2_text(mask_key_id_fields(text))
        try:
            found = pattern.Match(text) or ()
            secret = 0 in found or (  # the entropy witness, as in `may_contain_secrets`
                ("\\" in text or "'" in text or "\n" in text) and entropy.search(text) is not None
            )
        except UnicodeEncodeError:  # lone surrogates: RE2 takes UTF-8 only, so scan it
            found, secret = (0, 1), True
        secrets.append(secret)
        marked.append(1 in found)
    return secrets, marked


class NoSecrets(Redactor):
    """For texts `may_contain_secrets` ruled out: returns them as they are, without scanning."""

    def redact(self, text: str | None) -> Redaction:
        return Redaction(text or "")


def redactor_for(key_file: str | None = None) -> Redactor:
    """The redactor of a key file, by default the data directory's as it is now: cached on
    the resolved path, so a change of AGENTAUDIT_HOME is a change of key (caching on None
    kept the first home's key and gave the hook log and ingest different fingerprints)."""
    return _redactor_of(str(Path(key_file) if key_file else paths.key_path()))


@lru_cache(maxsize=4)
def _redactor_of(key_file: str) -> Redactor:
    return Redactor(load_or_create_key(Path(key_file)))
