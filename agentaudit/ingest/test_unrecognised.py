"""A file no collector recognises is one quarantine row with its size and head, never a silent 0."""

from __future__ import annotations

from agentaudit.ingest import ingest_paths
from agentaudit.ingest.files import UNRECOGNISED


def test_unrecognised_file_is_quarantined_once_with_size_and_head(store, redactor, tmp_path):
    odd = tmp_path / "notes.bin"
    odd.write_bytes(b"ghp_abcdefghijklmnopqrstuvwxyz0123456789 is my token\n\xff\xfe rest\n")
    report = ingest_paths(store, [odd], redactor=redactor)
    (file,) = report.files
    assert (file.status, file.source, file.ingested, file.quarantined) == ("skipped", None, 0, 1)
    assert UNRECOGNISED in file.detail and "61 bytes" in file.detail
    (row,) = store.rows("SELECT source_path, reason, raw, byte_offset FROM quarantine")
    assert (row["source_path"], row["reason"], row["byte_offset"]) == (str(odd), UNRECOGNISED, 0)
    assert '"size": 61' in row["raw"] and "is my token" in row["raw"] and "\\xff" in row["raw"]
    assert "ghp_abcdefghijklmnopqrstuvwxyz0123456789" not in row["raw"]  # redacted
    again = ingest_paths(store, [odd], redactor=redactor)
    assert again.quarantined == 0 and store.count("quarantine") == 1


def test_recognised_and_unrecognised_side_by_side(store, redactor, tmp_path):
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "zsh_history").write_text(": 1714000000:0;ls\n")
    (folder / "README.txt").write_text("hello\n")
    report = ingest_paths(store, [folder], redactor=redactor)
    assert {(f.source, f.status) for f in report.files} == {
        ("shell.zsh", "read"),
        (None, "skipped"),
    }
    assert (report.ingested, report.quarantined) == (1, 1)
