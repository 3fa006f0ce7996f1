"""Terminal renderings never alter evidence: rendered at 80 columns into a string."""

from __future__ import annotations

import io

from rich.text import Text

from agentaudit.terminal import Column, FitTable, evidence, make_console, styled, visible

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"
CONCEALED = "rm -rf /srv/[conceal]backups[/conceal]"


def render(renderable, width: int = 80) -> str:
    out = io.StringIO()
    make_console(file=out, width=width).print(renderable)
    return out.getvalue()


def test_markup_and_emoji_codes_in_evidence_are_shown_as_they_are():
    shown = render(evidence(f"{ARN} {CONCEALED} :thumbs_up: [bold]x[/bold]"), width=200)
    assert shown == f"{ARN} {CONCEALED} :thumbs_up: [bold]x[/bold]\n"
    assert "㊙" not in shown


def test_plain_strings_printed_by_commands_are_never_markup_either():
    # the commands' console reads nothing as markup: a formatted string keeps its brackets
    assert render(f"deleted {CONCEALED} ({ARN})", width=200) == f"deleted {CONCEALED} ({ARN})\n"


def test_control_and_reordering_characters_become_visible_escapes():
    command = "echo ok\x1b[2J\rrm -rf / \u202egnp.exe\x00\ttab\nnext line"
    shown = render(evidence(command), width=200)
    # tabs are expanded to spaces; newlines stay line breaks
    assert shown == "echo ok\\x1b[2J\\x0drm -rf / \\u202egnp.exe\\x00    tab\nnext line\n"
    assert "\x1b" not in shown and "\r" not in shown and "\u202e" not in shown
    assert visible("naïve café ✓") == "naïve café ✓"  # printable text is left alone


def test_styled_keeps_our_styles_and_store_text_literal():
    text = styled(("error: ", "red"), CONCEALED)
    assert text.plain == f"error: {CONCEALED}"
    assert [span.style for span in text.spans] == ["red"]


def test_lines_are_never_broken_at_the_console_width():
    long = "SELECT " + ", ".join(f"column_{i}" for i in range(40)) + " FROM events"
    assert render(long, width=80) == long + "\n"


def incidents(title: str) -> FitTable:
    table = FitTable(
        [
            Column("id", whole=True),
            Column("severity", whole=True),
            Column("status", whole=True),
            Column("started (UTC)", whole=True),
            Column("duration", whole=True, justify="right", optional=True),
            Column("title", shrink_first=True),
        ],
        title="Incidents (2)",
    )
    table.add_row("2ea4881e1e71", Text("critical", "bold red"), "firing", "2026-04-24 19:23:41",
                  "8.9 s", title)  # fmt: skip
    table.add_row("81f7ca38aa9f", "high", "resolved", "2026-04-24 19:05:04", "1,212.5 s", "short")
    return table


def test_a_table_fits_80_columns_with_an_ellipsis_and_whole_ids():
    shown = render(incidents(f"[HIGH] aws secretsmanager delete-secret --secret-id {ARN}"))
    lines = shown.splitlines()
    assert max(len(line) for line in lines) <= 80
    rows = [line for line in lines if line.startswith(("2ea4881e1e71 ", "81f7ca38aa9f "))]
    assert len(rows) == 2  # each id whole, at the start of its own single line
    assert rows[0].endswith("   [HIGH] aws secretsma…")
    assert "2026-04-24 19:23:41" in rows[0]  # whole columns are not cut either
    assert "not shown at this width: duration" in shown


def test_a_wide_terminal_shows_every_column_uncut():
    title = f"[HIGH] aws secretsmanager delete-secret --secret-id {ARN}"
    shown = render(incidents(title), width=200)
    assert title in shown and "1,212.5 s" in shown and "…" not in shown
    assert "not shown" not in shown


def test_ids_wider_than_the_terminal_are_rendered_whole_not_cut():
    table = FitTable([Column("event_id", whole=True), Column("session_id", whole=True)])
    ids = ("e" * 64, "s" * 40)
    table.add_row(*ids)
    row = [line for line in render(table).splitlines() if line.startswith("eee")]
    assert row == [f"{ids[0]}   {ids[1]}"]


def test_multi_line_cells_keep_their_lines_and_each_line_is_cut_alone():
    table = FitTable([Column("T+ ms", whole=True), Column("step", shrink_first=True)])
    table.add_row("8,921", Text("\n").join([evidence("x" * 120), evidence("short")]))
    lines = render(table).splitlines()
    assert any(line.rstrip().endswith("…") for line in lines)
    assert any(line.strip() == "short" for line in lines)
    assert max(len(line) for line in lines) <= 80
