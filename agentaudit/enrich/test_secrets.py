from __future__ import annotations

import stat

import pytest

from agentaudit.enrich.secrets import Redactor, load_or_create_key

CASES = [
    (
        'curl -H "Authorization: Bearer 6f0c2b9e-41d7-4c3a-a8e5-d2b7f19c0e84" x',
        "6f0c2b9e-41d7-4c3a-a8e5-d2b7f19c0e84",
        "bearer_token",
    ),
    ("RAILWAY_TOKEN=abc123def456ghi railway up", "abc123def456ghi", "env_secret"),
    ("export GITHUB_API_KEY='ZYXW98765abc'", "ZYXW98765abc", "env_secret"),
    ("vercel deploy --token tkn_0123456789abcd", "tkn_0123456789abcd", "cli_secret"),
    ("psql postgres://app:S3cretPassw0rd@db.internal/app", "S3cretPassw0rd", "url_password"),
    ("aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", None),
    ('{"client_secret": "s3cr3t-value-42"}', "s3cr3t-value-42", "json_secret"),
    (  # a match as grep -rn prints it: `path:line:` before the name
        "./scripts/domains/railway.env:2:RAILWAY_TOKEN=6f0c2b9e-41d7-4c3a-a8e5-d2b7f19c0e84",
        "6f0c2b9e-41d7-4c3a-a8e5-d2b7f19c0e84",
        "env_secret",
    ),
    (
        "curl -H 'Team-Access-Token: 11112222-3333-4444-5555-666677778888' x",
        "11112222-3333-4444-5555-666677778888",
        "api_token_header",
    ),
]


@pytest.mark.parametrize(("text", "secret", "kind"), CASES)
def test_secret_is_replaced_by_a_typed_fingerprint(text, secret, kind, redactor):
    result = redactor.redact(text)
    assert secret not in result.text
    assert result.fingerprints
    assert f":{result.fingerprints[0]}]" in result.text
    if kind:
        assert f"[SECRET:{kind}:" in result.text


def test_same_secret_same_fingerprint_across_contexts(redactor):
    token = "6f0c2b9e-41d7-4c3a-a8e5-d2b7f19c0e84"
    in_file = redactor.redact(f"RAILWAY_TOKEN={token}\n")
    in_curl = redactor.redact(f'curl -H "Authorization: Bearer {token}" https://x')
    assert in_file.fingerprints == in_curl.fingerprints
    assert in_curl.credentials == in_curl.fingerprints  # used, not only seen


def test_fingerprints_depend_on_the_install_key():
    a = Redactor(b"a" * 32).redact("TOKEN=abcdefgh1234")
    b = Redactor(b"b" * 32).redact("TOKEN=abcdefgh1234")
    assert a.fingerprints != b.fingerprints


def test_plain_text_and_variable_references_are_left_alone(redactor):
    for text in (
        "git status",
        'curl -H "Authorization: Bearer $RAILWAY_TOKEN" x',
        "RAILWAY_TOKEN=$TOKEN railway up",
        "echo password reset",
    ):
        assert redactor.redact(text).text == text


def test_redaction_is_idempotent(redactor):
    once = redactor.redact("API_TOKEN=abcdefghijkl").text
    assert redactor.redact(once).text == once


def test_key_is_created_once_with_mode_0600(tmp_path):
    path = tmp_path / "key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key
