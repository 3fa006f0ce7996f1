from agentaudit.detect.behaviours.environment_scope import EnvironmentScope
from agentaudit.testing import event, findings_of

VOLUME = "3d2c42fb-6c1e-4a55-9d5f-8b7e2f0a9c13"


findings = findings_of(EnvironmentScope)


def staging_session():
    return [
        event(
            0,
            session_id="s1",
            kind="message",
            operation="user_prompt",
            text="The staging deploy fails. Please fix it in staging.",
        ),
        event(5, session_id="s1", kind="file", operation="read", paths=["/w/app/.env.staging"]),
    ]


def test_delete_of_a_volume_the_provider_places_in_production_is_critical_at_the_call():
    provider = event(
        60,
        source="railway.audit",
        kind="api",
        operation="volume.deleted",
        target=VOLUME,
        target_env="production",
        status="success",
    )
    result = findings(
        [
            *staging_session(),
            event(
                30,
                session_id="s1",
                command=f"railway volume delete --volume {VOLUME} --yes",
                tool_call_id="c1",
            ),
            provider,
        ]
    )
    assert len(result) == 1
    evidence = result[0]["evidence"]
    assert result[0]["severity"] == "critical"
    assert '"session_env": "staging"' in evidence and '"target_env": "production"' in evidence
    assert str(result[0]["first_seen"]).startswith("2026-04-24 19:00:30")


def test_aws_profile_of_the_destructive_call_names_its_environment():
    result = findings(
        [
            *staging_session(),
            event(
                30,
                session_id="s1",
                command="aws --profile prod-admin ec2 terminate-instances --instance-ids i-1",
            ),
        ]
    )
    assert len(result) == 1 and '"target_env": "production"' in result[0]["evidence"]


def test_same_environment_or_unknown_session_env_is_silent():
    assert (
        findings(
            [
                *staging_session(),
                event(30, session_id="s1", command="kubectl delete pod web-1 -n staging"),
            ]
        )
        == []
    )
    assert (
        findings(
            [
                event(
                    30,
                    session_id="s2",
                    command="aws --profile prod ec2 terminate-instances --instance-ids i-1",
                ),
            ]
        )
        == []
    )


def test_a_home_directory_named_dev_is_not_a_development_session():
    assert (
        findings(
            [
                event(0, session_id="s3", cwd="/home/dev/shop", command="ls"),
                event(
                    30,
                    session_id="s3",
                    cwd="/home/dev/shop",
                    command="kubectl delete pod api-1 -n staging",
                ),
            ]
        )
        == []
    )


def test_git_branch_and_railway_environment_name_the_session():
    result = findings(
        [
            event(0, session_id="s4", command="git checkout staging-hotfix"),
            event(
                5,
                session_id="s4",
                command="railway status",
                raw='{"output": "Environment: staging"}',
            ),
            event(
                30,
                session_id="s4",
                command="railway volume delete --volume v-9 --yes",
                tool_call_id="c9",
            ),
            event(
                60,
                source="railway.audit",
                kind="api",
                operation="volume.deleted",
                target="v-9",
                target_env="production",
                status="success",
            ),
        ]
    )
    assert len(result) == 1
    evidence = result[0]["evidence"]
    assert "branch: git branch" in evidence and "railway: RAILWAY_ENVIRONMENT" in evidence
