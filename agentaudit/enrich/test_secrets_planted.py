"""The redactor on every planted shape in every carrier, and on texts that hold no secret.

`tests/planted_secrets.py` renders each fake credential (55 real shapes) in each place a record
carries one: command lines, headers, URLs, heredocs, prompts, written and printed files (ini,
.env, YAML, JSON, .netrc, the shape's own file), provider records, OTLP attributes, a line cut
short. Each text is redacted as it is, and as it sits inside one and two levels of JSON strings
(a record's raw JSON, a JSON document inside a JSON string).
"""

from __future__ import annotations

import json

import pytest

from agentaudit.enrich.event import enrich
from agentaudit.enrich.secret_rules import PLACEHOLDER_RE, redact_text
from agentaudit.enrich.secrets import Redactor, may_contain_secrets
from agentaudit.schema import new_event
from tests.planted_secrets import CARRIERS, SHAPES, SHAPES_BY_NAME, scan_bytes

KEY = b"planted-test-key-0123456789abcdef"


def _texts(shape):
    for carrier in CARRIERS.values():
        if not carrier.applies(shape):
            continue
        rendered = carrier.render(shape)
        text = rendered[1] if isinstance(rendered, tuple) else rendered
        text = text if isinstance(text, str) else json.dumps(text)
        yield carrier.name, text
        if carrier.group != "malformed":
            yield f"{carrier.name} in JSON", json.dumps(text)
            yield f"{carrier.name} in JSON in JSON", json.dumps(json.dumps(text))


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_every_carrier_of_the_shape_is_redacted(shape):
    redactor = Redactor(KEY)
    left = [name for name, text in _texts(shape) if scan_bytes(redactor.redact(text).text, [shape])]
    assert left == []


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_the_hook_rules_alone_redact_it_too(shape):
    """`agentaudit-hook` runs the standard-library rules only (no detect-secrets)."""
    left = [name for name, text in _texts(shape) if scan_bytes(redact_text(text, KEY), [shape])]
    assert left == []


def test_the_prefilter_lets_every_carrier_through():
    texts = [text for shape in SHAPES for _name, text in _texts(shape)]
    assert all(may_contain_secrets(texts))


def test_a_private_key_has_one_fingerprint_however_it_is_written():
    """The file, the file inside a record's raw JSON, an indented YAML block, a .env value
    with escaped line breaks, a numbered listing, and an attribute cut at 512 characters: one
    key, one fingerprint."""
    pem = SHAPES_BY_NAME["pem_rsa_private_key"].value
    numbered = "\n".join(f"{n:>6}\u2192{line}" for n, line in enumerate(pem.split("\n"), 1))
    redactor = Redactor(KEY)
    forms = [
        pem + "\n",
        json.dumps({"content": pem}),
        "key: |\n" + "\n".join("    " + line for line in pem.splitlines()) + "\n",
        'KEY="' + pem.replace("\n", "\\n") + '"\n',
        # as Claude Code's Read prints a file: a line number and an arrow before each line,
        # inside the record's JSON with non-ASCII escaped or not
        json.dumps({"content": numbered}),
        json.dumps({"content": numbered}, ensure_ascii=False),
    ]
    fps = set()
    for text in forms:
        result = redactor.redact(text)
        assert not scan_bytes(result.text, [SHAPES_BY_NAME["pem_rsa_private_key"]]), text[:40]
        assert "BEGIN" not in result.text  # the whole block, not the header line alone
        fps.add(tuple(result.fingerprints))
    assert len(fps) == 1
    cut = redactor.redact(json.dumps({"attr": pem[:512]}))
    assert not scan_bytes(cut.text, [SHAPES_BY_NAME["pem_rsa_private_key"]])


def test_a_secret_redacted_by_the_hook_keeps_its_fingerprint_at_ingest():
    """The hook log holds placeholders; ingest takes their fingerprints as found, and one in
    a position of use as the call's credential, as if it had seen the secret itself."""
    token = SHAPES_BY_NAME["railway_account_token"].value
    command = f'curl -H "Authorization: Bearer {token}" https://backboard.railway.app/graphql/v2'
    redactor = Redactor(KEY)
    direct = redactor.redact(command)
    hooked = redactor.redact(redact_text(command, KEY))
    assert token not in hooked.text
    assert hooked.fingerprints == direct.fingerprints
    assert hooked.credentials == direct.credentials == direct.fingerprints


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_the_hook_log_and_the_clear_text_give_the_same_fingerprints(shape):
    """Every carrier, as the hook writes it (its rules alone) and as ingest sees it in clear:
    the same secrets, the same credential in the same order, and the same redacted text."""
    redactor = Redactor(KEY)
    for where, text in _texts(shape):
        direct = redactor.redact(text)
        hooked = redactor.redact(redact_text(text, KEY))
        assert sorted(hooked.fingerprints) == sorted(direct.fingerprints), where
        assert hooked.credentials == direct.credentials, where
        assert hooked.text == direct.text, where


def test_a_placeholder_is_never_read_as_part_of_a_value():
    """`-u "<key>:"` (Stripe's key as the user name) once redacted: the user-name rule must not
    take the placeholder's tail for a password (it nested placeholders), and redacting again
    changes nothing."""
    key = SHAPES_BY_NAME["stripe_secret_key"].value
    redactor = Redactor(KEY)
    once = redactor.redact(f'curl -sS -X DELETE -u "{key}:" https://api.stripe.com/v1/customers/x')
    assert once.text.count("[SECRET:") == 1 and "[SECRET:[SECRET:" not in once.text
    assert redactor.redact(once.text).text == once.text


def test_same_token_same_fingerprint_in_a_file_and_in_a_header():
    """Read from a file: a secret seen (credential access). Sent in a header: the call's
    credential. One fingerprint, so provenance follows it from the one to the other."""
    token = SHAPES_BY_NAME["ini_token_uuid"].value
    redactor = Redactor(KEY)
    read = new_event(
        "claude-code.transcript",
        "read",
        kind="file",
        tool_name="Read",
        raw=json.dumps({"content": f"[default]\ntoken = {token}\n"}),
    )
    call = new_event(
        "claude-code.transcript",
        "call",
        kind="process",
        tool_name="Bash",
        command=f"curl -H 'X-Auth-Token: {token}' https://api.acme.example/v2/deployments",
    )
    enrich(read, redactor)
    enrich(call, redactor)
    assert token not in json.dumps([read, call], default=str)
    assert read["credential_fp"] is None and "credential_access" in read["categories"]
    assert read["secret_fps"] == [call["credential_fp"]]


def test_a_random_quoted_string_in_a_file_is_redacted_but_weak():
    """detect-secrets' entropy detector in file contents: redacted, fingerprinted, but not
    credential access by itself (ids and hashes are random too)."""
    blob = "Zq8LmN3pR7sT1vW4xY6zA9bC2dE5fG0hJ"
    result = Redactor(KEY).redact(json.dumps({"content": f"config:\n  blob: '{blob}'\n"}))
    assert blob not in result.text
    assert result.weak == result.fingerprints and result.weak


# Texts that hold no secret, one per class a rule could mistake for one.
BENIGN = [
    "git status --short && npm test -- --watch=false",
    "PASS e2e/invoices.e2e.ts\nTests: 3 passed",  # a test runner's report
    "src/utils/auth.ts:9:import type { ProviderProfile } from '@/env/types'",  # grep output
    '{"key": "StratusRedTeam", "value": "true"}',  # a tag
    '{"nextToken": "AAEAAbwQk+7AJvg2ZAp3PkimvgnsksUOA0Tk+N58wvEOBay3AAAAAGSr8mMb8wYSF2o="}',
    '{"clientToken": "C265B64D-B8B2-4C8F-912B-A346F34FC63A"}',  # an idempotency token
    '{"hashed_token": "KjZa/GOlvFtvgzAfpJVdPNhNKFc4Lxt2otCHw9fp3Po="}',
    '{"secretId": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123"}',
    '{"input_tokens": 3, "cache_read_input_tokens": 20000, "max_tokens": 4096}',
    '{"filePath": "/home/dev/app/src/keys.ts", "author": "dev", "keyword": "deploy2"}',
    "the token count is fine; key components: parser, store",  # prose
    "password = os.environ['DB_PASSWORD']",  # an indirect reference
    'RAILWAY_TOKEN="$RAILWAY_TOKEN" railway up',
    "curl -H 'Authorization: Bearer ${TOKEN}' https://api.example.com",
    '{"request_id": "C0FE:1234:ABCDEF:123456:680A1B2C"}',
    "const url = getHooksPluginFileUrl(config)",
    "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.1.0 lang/python#3.11.8 app/deploy-bot",
    '{"requestURI": "/api/v1/namespaces/prod/secrets/bootstrap-token-ne7bxu"}',
    "docker run -u 1000:1000 -p 8080:80 app",
]


@pytest.mark.parametrize("text", BENIGN)
def test_benign_text_is_left_alone(text):
    result = Redactor(KEY).redact(text)
    assert result.text == text and not PLACEHOLDER_RE.search(result.text)
    assert redact_text(text, KEY) == text
