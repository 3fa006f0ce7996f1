from agentaudit.detect.behaviours.move_overwrite import MoveOverwrite
from agentaudit.testing import event, findings_of

DEST = '"../anuraag_xyz project"'


findings = findings_of(MoveOverwrite)


def moves(start=10, n=4):
    return [event(start + i, session_id="s1", command=f"mv file{i}.txt {DEST}") for i in range(n)]


def test_moves_onto_an_unverified_mkdir_target_fire_at_the_second_move():
    result = findings([event(0, session_id="s1", command=f"mkdir {DEST}"), *moves()])
    assert len(result) == 1 and result[0]["severity"] == "high"
    assert str(result[0]["first_seen"]).startswith("2026-04-24 19:00:11")
    assert '"lost": 3' in result[0]["evidence"]


def test_a_failed_mkdir_makes_it_critical():
    result = findings(
        [event(0, session_id="s1", command=f"mkdir {DEST}", status="failure"), *moves()]
    )
    assert result[0]["severity"] == "critical"


def test_verified_directory_or_trailing_slash_or_few_moves_is_silent():
    assert (
        findings(
            [
                event(0, session_id="s1", command=f"mkdir {DEST}"),
                event(1, session_id="s1", command=f"ls {DEST}"),
                *moves(),
            ]
        )
        == []
    )
    assert (
        findings(
            [
                event(0, session_id="s1", command="mkdir out"),
                *[event(5 + i, session_id="s1", command=f"mv f{i} out/") for i in range(4)],
            ]
        )
        == []
    )
    assert findings([event(0, session_id="s1", command=f"mkdir {DEST}"), *moves(n=2)]) == []
