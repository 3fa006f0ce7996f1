"""The redactor's shortcuts (skip a pattern or detector that cannot match) change nothing.

Every text is redacted twice, with `SHORTCUTS` on and off, and the findings must be equal:
generated texts built from the pieces the skipped patterns look for (keywords in odd cases and
Unicode case-equivalents, every assignment form, secrets of each charset and length), and the
raw records of the provider and shell corpus.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentaudit.collectors import sniff_collector
from agentaudit.collectors.base import SourceInput
from agentaudit.enrich import secrets
from agentaudit.enrich.secrets import Redactor

KEYWORDS = [
    "key",
    "KEY",
    "Pwd",
    "pw",
    "password",
    "PASS",
    "paſſ",
    "token",
    "ToKeN",
    "authorızation",
    "bearer",
    "secret_access_key",
    "api_key",
    "ACCESS_KEY",
    "PASSWORD",
    "x-api-key",
]
PREFIXES = [
    "",
    "cloudant",
    "cl",
    "clou",
    "ibm",
    "ibm_cloud_iam",
    "iam",
    "cloud",
    "softlayer",
    "sl",
    "cos_hmac_",
    "ibm-cos-",
    "api",
    "_",
    "-",
    "[",
    '"',
    "'",
    "GITHUB_",
    "--",
]
ASSIGN = ["=", ":", ":=", "=>", " ", "  ", "::", '":"', "' : '", "]=", ' = "', ": ", '="']
SECRETS = [
    "a" * 24,
    "0123456789abcdef" * 4,
    "Ab0_-" * 9,
    "f" * 48,
    "z9" * 32,
    "K" * 44,
    "deadbeef" * 6,
    "short",
    "ghp_" + "A" * 36,
    "AKIA" + "B" * 16,
]
URLS = [
    "https://user:" + "0" * 64 + "@acct.cloudant.com",
    "https://api.softlayer.com/soap/v3/" + "a" * 64,
    "postgres://u:pa55word@db",
    "https://api-softlayer-com/soap/v3.1/" + "b" * 64,
]

piece = st.one_of(
    st.sampled_from(KEYWORDS),
    st.sampled_from(PREFIXES),
    st.sampled_from(ASSIGN),
    st.sampled_from(SECRETS),
    st.sampled_from(URLS),
    st.text(max_size=6),
)


def both(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list, list]:
    redactor = Redactor(b"shortcut-test-key-0123456789abcd")
    fast = sorted(redactor.find(text))
    monkeypatch.setattr(secrets, "SHORTCUTS", False)
    full = sorted(redactor.find(text))
    monkeypatch.setattr(secrets, "SHORTCUTS", True)
    return fast, full


@settings(max_examples=400, deadline=None)
@given(st.lists(piece, min_size=1, max_size=8).map("".join))
def test_shortcuts_find_the_same_secrets_as_the_full_scan(text):
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, full = both(text, monkeypatch)
    assert fast == full


@pytest.mark.parametrize(
    "text",
    [
        'cloudant_apikey = "' + "0123456789abcdef" * 4 + '"',
        "ibm_cloud_iam_pwd:" + "A" * 44,
        "cos_hmac_secret_access_key => " + "ab" * 24,
        "softlayer-token  " + "c" * 64,
        "SL_PASSWORD=" + "9" * 64,
        "https://x:" + "a" * 24 + "@acct.cloudant.com",
    ],
)
def test_each_skippable_detector_still_finds_its_own_secret(text, monkeypatch):
    fast, full = both(text, monkeypatch)
    assert fast == full and fast  # found, and found the same


def test_corpus_raw_records_redact_the_same(corpus, monkeypatch):
    texts = []
    for folder in ("cloudtrail", "gcp", "azure", "k8s", "github", "zsh", "bash", "fish"):
        for path in sorted((corpus / folder).iterdir()):
            collector = sniff_collector(Path(path), path.read_bytes()[:4096])
            if collector is None:
                continue
            with path.open("rb") as fh:
                texts += [
                    o["raw"]
                    for o in collector.collect(SourceInput(str(path), fh))
                    if isinstance(o, dict)
                ]
    texts = texts[::7]  # every 7th record: a spread over every file, in a few seconds
    assert len(texts) > 400
    for text in texts:
        fast, full = both(text, monkeypatch)
        assert fast == full
