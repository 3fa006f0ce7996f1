"""Terminal renderings that never alter evidence.

Text from the store (commands, ARNs, titles, paths) is shown as it is: never read as Rich
markup (`[conceal]`), emoji codes (`:secret:`) or terminal control sequences (ESC, CR, bidi
overrides), which are shown as visible escapes instead. Tables fit the terminal by truncating
text with an ellipsis; id columns are never cut or wrapped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

# C0 controls but newline and tab, DEL, C1 controls, and the Unicode format characters that
# reorder or hide text on screen (bidi embeddings/overrides/isolates, zero-width joiners).
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def make_console(
    file: IO[str] | None = None, width: int | None = None, stderr: bool = False
) -> Console:
    """The console every command prints with: nothing in a printed string is read as markup,
    emoji or highlighting (styles come from `line`/`evidence`), and lines are never broken
    (a terminal wraps them itself; a pipe gets them whole)."""
    return Console(
        file=file,
        width=width,
        stderr=stderr,
        markup=False,
        emoji=False,
        highlight=False,
        soft_wrap=True,
    )


def visible(text: str) -> str:
    """`text` with every control or invisible formatting character as a visible escape."""
    return _INVISIBLE.sub(_escape_char, text)


def evidence(value: object, style: str = "") -> Text:
    """Store text as a Rich Text: shown literally (no markup, no emoji, no control codes)."""
    return Text("" if value is None else visible(str(value)), style=style)


Part = str | Text | tuple[str, str]


def styled(*parts: Part) -> Text:
    """One Text from literal parts: a str is evidence, (text, style) styled evidence, a Text
    kept as it is. Our own labels and store values are put together without markup."""
    out = Text()
    for part in parts:
        if isinstance(part, Text):
            out.append_text(part)
        elif isinstance(part, tuple):
            out.append(visible(part[0]), style=part[1])
        else:
            out.append(visible(part))
    return out


def stacked(items: Iterable[Text | str]) -> Text:
    """Texts joined by newlines (a multi-line table cell)."""
    return Text("\n").join(item if isinstance(item, Text) else evidence(item) for item in items)


@dataclass(frozen=True)
class Column:
    header: str
    whole: bool = False  # ids, numbers, times, labels: shown whole, never cut
    justify: str = "left"
    shrink_first: bool = False  # titles and steps give way before the other text columns
    optional: bool = False  # left out (and said so) when the table cannot fit otherwise


MIN_TEXT_WIDTH = 6
FAIR_WIDTH = 24  # what a shrink_first column keeps before optional columns are left out


def overhead(columns: int) -> int:
    """Width the box takes beyond the cells: one space of padding either side of an inner
    edge and a separator between columns (no outer edge, see `FitTable.__rich_console__`)."""
    return max(3 * columns - 3, 0)


class FitTable:
    """A table that fits the width it is rendered at: text columns are cut with an ellipsis
    (titles first, then the widest), optional columns are left out when that is not enough,
    and whole columns (ids, numbers) keep their width; every cell stays on its own lines.

    Rich's own column collapsing wraps or slices any column, ids included, hence this layout.
    """

    def __init__(self, columns: Sequence[Column], title: Text | str | None = None) -> None:
        self.columns = list(columns)
        self.title = evidence(title, "italic") if isinstance(title, str) else title
        self.rows: list[list[Text]] = []
        self.caption: Text | str | None = None

    def add_row(self, *cells: Text | str | None) -> None:
        self.rows.append([c if isinstance(c, Text) else evidence(c) for c in cells])

    def _natural(self, index: int) -> int:
        widths = [cell_len(self.columns[index].header)]
        for row in self.rows:
            widths += [cell_len(part) for part in row[index].plain.split("\n")]
        return max(widths)

    def layout(self, max_width: int) -> dict[int, int]:
        """Width of each shown column, by column index (left-out columns are absent)."""
        natural = {i: self._natural(i) for i in range(len(self.columns))}
        shown = dict(natural)
        optional = [i for i, c in enumerate(self.columns) if c.optional]

        def floor(i: int, fair: int) -> int:
            column = self.columns[i]
            if column.whole:
                return natural[i]
            return min(natural[i], fair if column.shrink_first else MIN_TEXT_WIDTH)

        # leave out optional columns (last first) while the rest cannot keep a fair width
        while optional and sum(floor(i, FAIR_WIDTH) for i in shown) > max_width - overhead(
            len(shown)
        ):
            del shown[optional.pop()]
        available = max_width - overhead(len(shown))
        while sum(shown.values()) > available:
            preferred = [
                i for i in shown if self.columns[i].shrink_first and shown[i] > floor(i, FAIR_WIDTH)
            ]
            cuttable = preferred or [i for i in shown if shown[i] > floor(i, MIN_TEXT_WIDTH)]
            if not cuttable:
                break  # whole columns alone are wider: rendered wider, never cut
            shown[max(cuttable, key=lambda i: shown[i])] -= 1
        return shown

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        shown = self.layout(options.max_width)
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1))
        for i, width in shown.items():
            column = self.columns[i]
            table.add_column(
                column.header,
                justify=column.justify,  # type: ignore[arg-type]
                width=width,
                no_wrap=True,
                overflow="ellipsis",
            )
        for row in self.rows:
            table.add_row(*(row[i] for i in shown))
        if self.title is not None:  # a title names ids: one line, never wrapped
            yield from self.title.render(console)
            yield Segment.line()
        total = sum(shown.values()) + overhead(len(shown))
        yield from console.render(table, options.update_width(max(total, options.max_width)))
        left_out = [c.header for i, c in enumerate(self.columns) if i not in shown]
        notes = [self.caption] if self.caption else []
        if left_out:
            notes.append(f"not shown at this width: {', '.join(left_out)} (--json has every field)")
        for note in notes:
            yield from (note if isinstance(note, Text) else evidence(note, "dim")).render(console)
            yield Segment.line()
