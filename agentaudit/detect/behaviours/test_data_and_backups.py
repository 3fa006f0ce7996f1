from agentaudit.detect.behaviours.data_and_backups import DataAndBackups
from agentaudit.testing import event, findings_of

findings = findings_of(DataAndBackups)


def test_volume_delete_destroys_data_and_backups_in_one_call():
    result = findings(
        [event(0, session_id="s1", command="railway volume delete --volume v1 --yes")]
    )
    assert len(result) == 1 and result[0]["severity"] == "critical"
    assert "in one call" in result[0]["title"]


def test_rds_delete_skipping_final_snapshot_by_a_principal():
    raw = '{"eventName":"DeleteDBInstance","requestParameters":{"skipFinalSnapshot":true}}'
    result = findings(
        [
            event(
                0,
                source="aws.cloudtrail",
                kind="api",
                operation="DeleteDBInstance",
                destructive=True,
                categories=["cloud_delete"],
                actor="arn:aws:iam::1:user/tf",
                raw=raw,
            ),
        ]
    )
    assert len(result) == 1 and '"skips_final_snapshot": true' in result[0]["evidence"]


def test_delete_then_backup_delete_within_minutes():
    result = findings(
        [
            event(
                0,
                session_id="s1",
                command="aws rds delete-db-instance --db-instance-identifier db1",
            ),
            event(
                90,
                session_id="s1",
                kind="api",
                source="aws.cloudtrail",
                operation="DeleteDBSnapshot",
                destructive=True,
                categories=["backup_destroy"],
                target="snap-1",
            ),
        ]
    )
    assert len(result) == 1 and "followed by 1 backup deletes" in result[0]["title"]


def test_refused_delete_or_backup_delete_much_later_is_silent():
    assert (
        findings(
            [
                event(
                    0,
                    session_id="s1",
                    command="railway volume delete --volume v1",
                    status="failure",
                ),
            ]
        )
        == []
    )
    assert (
        findings(
            [
                event(
                    0,
                    session_id="s1",
                    command="aws rds delete-db-instance --db-instance-identifier db1",
                ),
                event(
                    4000,
                    session_id="s1",
                    kind="api",
                    operation="DeleteDBSnapshot",
                    destructive=True,
                    categories=["backup_destroy"],
                ),
            ]
        )
        == []
    )
