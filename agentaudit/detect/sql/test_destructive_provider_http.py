from agentaudit.detect.sql.destructive_provider_http import DestructiveProviderHttp
from agentaudit.testing import event, findings_of

CURL = (
    "curl -X POST https://backboard.railway.app/graphql/v2 -H 'Authorization: Bearer tok_abcdef123456' "
    '-d \'{"query":"mutation { volumeDelete(volumeId: \\"vol-1\\") }"}\''
)


findings = findings_of(DestructiveProviderHttp)


def test_fires_once_per_call_with_all_its_sources():
    result = findings(
        [
            event(0, session_id="s1", command=CURL, tool_call_id="c1"),
            event(0.8, session_id="s1", command=CURL, tool_call_id="c1", status="success"),
            event(0.5, source="shell.zsh", command=CURL),
        ]
    )
    assert len(result) == 1
    assert result[0]["severity"] == "critical"
    assert len(result[0]["event_ids"]) == 3
    assert "volumeDelete" in result[0]["title"]


def test_silent_on_read_only_graphql_and_plain_http():
    query = CURL.replace('mutation { volumeDelete(volumeId: \\"vol-1\\") }', "query { me { id } }")
    assert (
        findings(
            [
                event(0, session_id="s1", command=query),
                event(1, session_id="s1", command="curl -s https://example.com/health"),
                event(2, session_id="s1", command="railway status"),
            ]
        )
        == []
    )


def test_silent_on_destructive_cli_without_raw_http():
    assert (
        findings([event(0, session_id="s1", command="railway volume delete --volume v1 --yes")])
        == []
    )
