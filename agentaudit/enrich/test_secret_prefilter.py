"""The vectorised secret prefilter only ever skips texts no detector matches."""

from __future__ import annotations

from agentaudit.enrich.secrets import may_contain_secrets
from agentaudit.enrich.test_secrets import CASES
from agentaudit.ingest import ingest_paths
from agentaudit.ingest import records as ingest  # enrichment lives there (issue 22)
from agentaudit.store import Store

# one real-shaped sample per detector family (all fake values)
SAMPLES = [
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
    "SLACK=xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "npm //registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789",
    "sk-proj-abcdefghijklmnopqrstT3BlbkFJabcdefghijklmnopqrst",
    "glpat-abcdefghij0123456789",
    "https://user:hunter22@db.example.com/app",
    "cloudant_password='abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01'",
]


def test_every_text_with_a_finding_passes_the_prefilter(redactor, corpus):
    texts = [text for text, _secret, _kind in CASES] + SAMPLES
    for folder in ("claude-code", "codex"):
        for path in sorted((corpus / folder).glob("*.jsonl")):
            texts += path.read_text(errors="replace").splitlines()
    flagged = may_contain_secrets(texts)
    found = [bool(redactor.find(t)) for t in texts]
    missed = [t[:120] for t, f, ok in zip(texts, found, flagged, strict=True) if f and not ok]
    assert missed == []
    assert sum(found) >= len(CASES) + len(SAMPLES) - 1
    assert sum(flagged) < len(texts)  # and it does rule texts out


def test_ingest_with_and_without_prefilter_stores_the_same_rows(
    corpus, redactor, tmp_path, monkeypatch
):
    folder = corpus / "claude-code"
    sql = "SELECT event_id, command, error, text, raw, secret_fps FROM events ORDER BY event_id"
    with Store.open(tmp_path / "fast.duckdb") as fast:
        ingest_paths(fast, [folder], redactor=redactor)
        fast_rows = fast.rows(sql)
    monkeypatch.setattr(ingest, "scan_texts", lambda texts, _m: ([True] * len(texts),) * 2)
    with Store.open(tmp_path / "slow.duckdb") as slow:
        ingest_paths(slow, [folder], redactor=redactor)
        slow_rows = slow.rows(sql)
    assert len(fast_rows) == 320 and fast_rows == slow_rows


def test_prefixed_tokens_are_redacted_whole(redactor):
    """detect-secrets reports only the `ghp` / `glpat` capture group; the token must go too."""
    for text, token in [
        ("token=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"),
        ("glpat-abcdefghij0123456789 in a comment", "abcdefghij0123456789"),
    ]:
        result = redactor.redact(text)
        assert token not in result.text and "[SECRET:git" in result.text
        assert len(result.fingerprints) == 1


def test_a_pattern_re2_cannot_take_disables_the_prefilter(monkeypatch):
    from agentaudit.enrich import secrets

    monkeypatch.setattr(secrets, "_prefilter_pattern", lambda: "(?<=x)y")  # lookbehind: not RE2
    secrets._prefilter.cache_clear()
    try:
        assert secrets.may_contain_secrets(["plain", "text"]) == [True, True]
    finally:
        monkeypatch.undo()
        secrets._prefilter.cache_clear()
    assert secrets.may_contain_secrets(["plain text", "TOKEN=abcdefgh123"]) == [False, True]


def test_one_scan_answers_the_prefilter_and_the_environment_clue_markers(corpus):
    from agentaudit.enrich.environments import ENV_CLUE_MARKERS, env_clues
    from agentaudit.enrich.secrets import scan_texts

    texts = [text for text, _secret, _kind in CASES] + SAMPLES
    for folder in ("claude-code", "codex"):
        for path in sorted((corpus / folder).glob("*.jsonl")):
            texts += path.read_text(errors="replace").splitlines()
    texts += [
        "$ git status\nOn branch release/prod",
        "RAILWAY_ENVIRONMENT=staging npm run",
        "aws s3 rm s3://b --recursive --profile prod-admin",
    ]
    secrets, marked = scan_texts(texts, ENV_CLUE_MARKERS)
    assert secrets == may_contain_secrets(texts)
    assert [t for t, m in zip(texts, marked, strict=True) if env_clues(t, None) and not m] == []
    assert marked[-3:] == [True, True, True] and sum(marked) < len(texts)
