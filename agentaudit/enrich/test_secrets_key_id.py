"""An AWS access key id in a provider record's `accessKeyId` field is an identifier, not a secret.

The rule is narrow (docs/ARCHITECTURE.md, "Ingest fast path"): only the value of a JSON
`accessKeyId` / `AccessKeyId` field is exempt. The secret access key, session tokens and a key
id anywhere else (a command line, an env assignment) in the same record are still redacted, by
the full scan and through the vectorised prefilter.
"""

from __future__ import annotations

import json

from agentaudit.enrich.secrets import may_contain_secrets, redactor_for
from agentaudit.ingest import ingest_paths
from agentaudit.store import Store

KEY_ID = "AKIAEXAMPLEEXAMPLE01"
SESSION_KEY_ID = "ASIAEXAMPLEEXAMPLE02"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexample"
COMMAND_KEY_ID = "AKIAOTHEREXAMPLE0003"


def _record(event_id: str, **extra: object) -> dict:
    return {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "arn": "arn:aws:iam::111122223333:user/dev",
            "accountId": "111122223333",
            "accessKeyId": KEY_ID,
        },
        "eventTime": "2026-04-24T19:00:05Z",
        "eventSource": "sts.amazonaws.com",
        "eventName": "GetSessionToken",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9",
        "eventID": event_id,
        **extra,
    }


LEAKY = _record(
    "leaky",
    responseElements={
        "credentials": {
            "accessKeyId": SESSION_KEY_ID,
            "secretAccessKey": SECRET_ACCESS_KEY,
            "sessionToken": SESSION_TOKEN,
        }
    },
    requestParameters={
        "commands": [f"aws configure set aws_access_key_id {COMMAND_KEY_ID}"],
        "environment": f"AWS_ACCESS_KEY_ID={COMMAND_KEY_ID}",
    },
)
PLAIN = _record("plain", requestParameters={"durationSeconds": 3600})


def test_key_id_field_alone_is_not_a_secret(redactor):
    text = json.dumps(PLAIN)
    assert redactor.find(text) == []
    assert redactor.redact(text).text == text
    assert may_contain_secrets([text]) == [False]  # the prefilter skips the record


def test_secrets_beside_the_key_id_field_are_still_redacted(redactor):
    text = json.dumps(LEAKY)
    assert may_contain_secrets([text]) == [True]
    result = redactor.redact(text)
    for secret in (SECRET_ACCESS_KEY, SESSION_TOKEN, COMMAND_KEY_ID):
        assert secret not in result.text
    assert result.text.count("[SECRET:json_secret:") == 2  # secret access key, session token
    # the identifiers in the accessKeyId fields stay readable
    assert f'"accessKeyId": "{KEY_ID}"' in result.text
    assert f'"accessKeyId": "{SESSION_KEY_ID}"' in result.text
    assert len(result.fingerprints) == 3


def test_key_id_outside_the_field_is_still_a_secret(redactor):
    for text in (
        f"aws configure set aws_access_key_id {KEY_ID}",
        f"export AWS_ACCESS_KEY_ID={KEY_ID}",
        f'{{"keyId": "{KEY_ID}"}}',
        f'{{"accessKeyIdentifier": "{KEY_ID}"}}',
    ):
        assert KEY_ID not in redactor.redact(text).text, text
        assert may_contain_secrets([text]) == [True], text


def test_the_same_key_used_elsewhere_is_redacted_in_the_field_too(redactor):
    """A key id that also appears outside the field is a hit: every copy is replaced."""
    text = json.dumps(_record("x", requestParameters={"cmd": f"AWS_ACCESS_KEY_ID={KEY_ID}"}))
    result = redactor.redact(text)
    assert KEY_ID not in result.text and result.fingerprints


def test_escaped_key_id_field_inside_a_json_string(redactor):
    """LookupEvents carries the record as a JSON string: the field is then escaped."""
    inner = json.dumps(PLAIN)
    outer = json.dumps({"CloudTrailEvent": inner})
    assert redactor.find(outer) == []
    assert may_contain_secrets([outer]) == [False]
    leaky = json.dumps({"CloudTrailEvent": json.dumps(LEAKY)})
    result = redactor.redact(leaky)
    assert SECRET_ACCESS_KEY.replace("/", "\\/") not in result.text
    assert SECRET_ACCESS_KEY not in result.text and SESSION_TOKEN not in result.text


def test_ingested_cloudtrail_keeps_key_ids_and_never_stores_secrets(tmp_path):
    path = tmp_path / "trail.json"
    path.write_text(json.dumps({"Records": [PLAIN, LEAKY]}))
    with Store.open(tmp_path / "s.duckdb") as store:
        report = ingest_paths(store, [path], redactor=redactor_for(str(tmp_path / "key")))
        rows = store.rows("SELECT * FROM events ORDER BY event_id")
    assert report.ingested == 2
    stored = json.dumps(rows, default=str)
    for secret in (SECRET_ACCESS_KEY, SESSION_TOKEN, COMMAND_KEY_ID):
        assert secret not in stored
    assert {r["credential_id"] for r in rows} == {KEY_ID}
    leaky = next(r for r in rows if '"leaky"' in r["raw"])
    assert len(leaky["secret_fps"]) == 3
    plain = next(r for r in rows if '"plain"' in r["raw"])
    assert plain["secret_fps"] is None and KEY_ID in plain["raw"]


def test_scrub_keeps_the_identifiers_named_and_still_redacts_secrets_beside_them(redactor):
    """A page names the access key id on-call must deactivate (`keep`); a secret key on the
    same line is still redacted, and without `keep` the id's shape is redacted too."""
    from agentaudit.enrich.secrets import scrub

    key_id, secret = "AKIATFQR7NSC8Q4X20BJ", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
    text = f"Key id: {key_id}\naws_secret_access_key = {secret}\n"
    kept = scrub(text, redactor, keep=[key_id])
    assert key_id in kept and secret not in kept and "[SECRET:" in kept
    assert key_id not in scrub(text, redactor)
    assert scrub(text, redactor, keep=["not-in-the-text"]) == scrub(text, redactor)
