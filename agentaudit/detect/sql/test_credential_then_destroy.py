from agentaudit.detect.sql.credential_then_destroy import CredentialThenDestroy
from agentaudit.testing import event, findings_of

TOKEN = "9b1f2e3d-4c5b-6a79-8e0f-1a2b3c4d5e6f"
CURL = (
    f"curl -X POST https://backboard.railway.app/graphql/v2 -H 'Authorization: Bearer {TOKEN}' "
    '-d \'{"query":"mutation { volumeDelete(volumeId: \\"v1\\") }"}\''
)


def read_token_file(seconds, session="s1"):
    return event(
        seconds,
        session_id=session,
        kind="file",
        operation="read",
        paths=["/repo/scripts/domains/token.env"],
        target="/repo/scripts/domains/token.env",
        raw=f'{{"content": "RAILWAY_TOKEN={TOKEN}"}}',
    )


findings = findings_of(CredentialThenDestroy)


def test_token_read_from_file_then_used_by_destructive_call():
    result = findings(
        [read_token_file(0), event(5, session_id="s1", command=CURL, tool_call_id="c")]
    )
    assert len(result) == 1
    assert result[0]["severity"] == "critical"
    assert "/repo/scripts/domains/token.env" in result[0]["title"]


def test_use_before_read_or_in_another_session_is_silent():
    assert findings([event(0, session_id="s1", command=CURL), read_token_file(5)]) == []
    assert (
        findings([read_token_file(0, session="s2"), event(5, session_id="s1", command=CURL)]) == []
    )


def test_read_then_non_destructive_use_is_silent():
    query = CURL.replace('mutation { volumeDelete(volumeId: \\"v1\\") }', "query { me { id } }")
    assert findings([read_token_file(0), event(5, session_id="s1", command=query)]) == []


def test_a_different_token_does_not_match():
    other = CURL.replace(TOKEN, "00000000-1111-2222-3333-444444444444")
    assert findings([read_token_file(0), event(5, session_id="s1", command=other)]) == []
