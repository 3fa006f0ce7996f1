"""A timeline report as Markdown, JSON, or one self-contained HTML page with an inline SVG chart.
Each passes `secrets.scrub` on its way out (the second gate behind redaction at ingest).

The chart is SVG written here rather than a charting library: the page must open offline with
nothing to fetch, and a lane-per-source scatter with a few annotations is a page of code.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from agentaudit.analyst.timeline import TimelineRow
from agentaudit.analyst.timeline_steps import Step, TimelineReport, row_note
from agentaudit.enrich.secrets import scrub

_CHART_WIDTH = 980
_LANE_HEIGHT = 56
_MARGIN_LEFT = 130
_MARGIN_RIGHT = 40
_MARGIN_TOP = 48
_AXIS_HEIGHT = 40
# Labels are placed so that none overlaps another: the plot is cut into slots; each slot holds
# at most one finding flag and one step label per lane, cut to the slot's width in characters
# of at most _CHAR_PX (generous for 12 px sans-serif, bold); the rest are counted and listed
# in the label's hover text and in the table below the chart.
_SLOT_PX = 150
_CHAR_PX = 8.0
_LANE_LABEL_CHARS = 16
_FLAG_PX = 12  # the drawn flag before a finding label
_TIP_ROWS = 8  # rows named in a dot's hover text


def gap_sentence(report: TimelineReport) -> str:
    gap = report.gap
    if gap is None:
        # provider records alone (a principal's burst): say what they destroyed
        records = sorted(
            (r for s in report.every_step for r in s.provider_rows if r.destructive),
            key=lambda r: r.offset_ms,
        )
        if records:
            earliest = records[0]
            return (
                f"No agent call in this timeline: {len(records):,} destructive provider "
                f"records, the first at T+{earliest.offset_ms:,} ms ({earliest.what}"
                f"{f' on {earliest.target}' if earliest.target else ''})."
            )
        return "No destructive call in this timeline."
    first = (
        f"First destructive call at T+{gap.first_destructive_ms:,} ms ({gap.first_destructive_what}"
    )
    outcome = {"failure": "refused", "denied": "denied"}.get(gap.first_destructive_status or "")
    first += f", {outcome})." if outcome else ")."
    if gap.record_ms is None:
        return first + " No provider record of a destructive action in this window."
    text = (
        f"{first} The provider recorded {gap.record_what}"
        f"{f' in {gap.record_env}' if gap.record_env not in (None, 'unknown') else ''}"
        f" at T+{gap.record_ms:,} ms: {gap.gap_ms:,} ms after the first destructive call"
    )
    if gap.call_to_record_ms is not None:
        text += f", {gap.call_to_record_ms:,} ms after the call it records ({gap.confirmed_call_what} at T+{gap.confirmed_call_ms:,} ms)"
    return text + "."


def _step_text(step: Step) -> str:
    text = step.what
    if step.status in ("failure", "denied"):
        text += f" ({'refused' if step.status == 'failure' else 'denied'})"
    if step.decided_by:
        text += f" [decided by {step.decided_by}]"
    return text


def to_markdown(report: TimelineReport) -> str:
    lines = [f"# {report.title}", ""]
    if report.start:
        lines.append(f"T+0 = {report.start.isoformat(timespec='milliseconds')} (UTC).")
    lines += [gap_sentence(report), ""]
    if report.count_line:
        lines += [report.count_line, ""]
    lines.append("| T+ ms | sources | actor | step | target | fires |")
    lines.append("|---:|---|---|---|---|---|")
    for step in report.steps:
        what = _md(_step_text(step))
        what = f"**{what}**" if step.destructive else what
        if step.detail and step.detail != step.what:
            detail = _md(step.detail).replace("`", "'")
            what += f"<br>`{detail}`"
        for row in step.rows[1:]:
            what += f"<br>{_md(row_note(row))}"
        target = _md(step.target or "")
        if step.target_env not in (None, "unknown"):
            target += f" ({step.target_env})"
        lines.append(
            f"| {step.offset_ms:,} | {', '.join(step.sources)} | {_md(step.actor or '')} | "
            f"{what} | {target} | "
            f"{', '.join(step.fired)} |"
        )
    return scrub("\n".join(lines) + "\n") or ""


def to_json(report: TimelineReport) -> str:
    return scrub(json.dumps(report.as_dict(), indent=2, default=str, ensure_ascii=False)) or ""


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _nice_step(span: float, ticks: int = 8) -> float:
    raw = max(span, 1) / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def lane_order(report: TimelineReport) -> list[str]:
    """Chart lanes: the agent's sources, then shells, then providers."""
    providers = {r.source for r in report.rows if r.kind == "api"}
    shells = {r.source for r in report.rows if r.origin == "shell"}
    return sorted(
        dict.fromkeys(r.source for r in report.rows), key=lambda s: (s in providers, s in shells)
    )


def timeline_svg(report: TimelineReport) -> str:
    """Lanes per source, a dot per row (red: destructive), linked rows joined, findings flagged."""
    sources = lane_order(report)
    top = _MARGIN_TOP + (15 if any(s.fired for s in report.every_step) else 0)
    height = top + _LANE_HEIGHT * max(len(sources), 1) + _AXIS_HEIGHT
    plot_w = _CHART_WIDTH - _MARGIN_LEFT - _MARGIN_RIGHT
    span = max((r.offset_ms for r in report.rows), default=0) or 1

    def x(ms: int) -> float:
        return round(_MARGIN_LEFT + plot_w * ms / span, 1)

    def y(source: str) -> float:
        return top + _LANE_HEIGHT * sources.index(source) + _LANE_HEIGHT / 2

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline-chart" width="{_CHART_WIDTH}" '
        f'height="{height}" viewBox="0 0 {_CHART_WIDTH} {height}" role="img" '
        'style="max-width: 100%; height: auto" '
        f'aria-label="{escape(report.title)}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(report.title)}</title>",
    ]
    for i, source in enumerate(sources):
        lane_top = top + _LANE_HEIGHT * i
        fill = "#f6f8fa" if i % 2 == 0 else "#ffffff"
        out.append(
            f'<rect x="{_MARGIN_LEFT}" y="{lane_top}" width="{plot_w}" height="{_LANE_HEIGHT}" fill="{fill}"/>'
        )
        out.append(
            f'<text class="lane" x="{_MARGIN_LEFT - 8}" y="{y(source) + 4}" text-anchor="end">'
            f"{escape(_cut(source, _LANE_LABEL_CHARS))}<title>{escape(source)}</title></text>"
        )
    axis_y = top + _LANE_HEIGHT * len(sources)
    out.append(
        f'<line x1="{_MARGIN_LEFT}" y1="{axis_y}" x2="{_MARGIN_LEFT + plot_w}" y2="{axis_y}" stroke="#555"/>'
    )
    tick = _nice_step(span)
    value = 0.0
    while value <= span + 1e-9:
        tx = x(round(value))
        out.append(f'<line x1="{tx}" y1="{axis_y}" x2="{tx}" y2="{axis_y + 5}" stroke="#555"/>')
        out.append(
            f'<text x="{tx}" y="{axis_y + 18}" text-anchor="middle" fill="#333">{value:,.0f}</text>'
        )
        value += tick
    out.append(
        f'<text x="{_MARGIN_LEFT + plot_w / 2}" y="{axis_y + 34}" text-anchor="middle" '
        f'fill="#333">T+ ms</text>'
    )
    for step in report.every_step:
        if len(step.rows) > 1:
            points = " ".join(f"{x(r.offset_ms)},{y(r.source)}" for r in step.rows)
            color = "#d73a49" if step.destructive else "#8a8a8a"
            out.append(
                f'<polyline class="link" points="{points}" fill="none" stroke="{color}" '
                f'stroke-width="1.5" stroke-dasharray="4 3"/>'
            )
    # rows on the same pixel of a lane are one dot (a burst of thousands stays light to draw);
    # its hover text lists them
    dots: dict[tuple[str, float, bool], list[TimelineRow]] = {}
    for row in report.rows:
        dots.setdefault((row.source, x(row.offset_ms), row.destructive), []).append(row)
    for (source, cx, destructive), members in dots.items():
        color = "#d73a49" if destructive else "#0366d6"
        tips = [_row_tip(row) for row in members[:_TIP_ROWS]]
        if len(members) > _TIP_ROWS:
            tips.append(f"... {len(members) - _TIP_ROWS:,} more")
        out.append(
            f'<circle class="event{" destructive" if destructive else ""}" '
            f'cx="{cx}" cy="{y(source)}" r="{6 if destructive else 4.5}" '
            f'fill="{color}"><title>{escape(chr(10).join(tips))}</title></circle>'
        )
    for label in flag_labels(report.every_step, x, plot_w):  # one flag per slot, above the lanes
        # the flag is drawn, not a glyph: a symbol font may be missing where the page opens
        fx, fy = label.x, top - 8
        out.append(
            f'<path class="flag" d="M{fx},{fy + 3} V{fy - 11} L{fx + 8},{fy - 7} L{fx},{fy - 3}" '
            f'fill="#b31d28" stroke="#b31d28"/>'
            f'<text class="finding" x="{fx + _FLAG_PX}" y="{fy}" fill="#b31d28" '
            f'font-weight="bold">{escape(label.text)}<title>{escape(label.tip)}</title></text>'
        )
    for source in sources:  # one label per slot and lane, under the destructive calls
        calls = [s for s in report.every_step if s.destructive and s.call_rows]
        in_lane = [s for s in calls if s.rows[0].source == source]
        for label in step_labels(in_lane, x, plot_w):
            out.append(
                f'<text class="step-label" x="{label.x}" y="{y(source) + 20}" '
                f'fill="#b31d28">{escape(label.text)}<title>{escape(label.tip)}</title></text>'
            )
    gap = report.gap
    if gap and gap.record_ms is not None and gap.confirmed_call_ms is not None:
        provider_y = y(next(r.source for r in report.rows if r.kind == "api")) - 16
        c1, c2 = x(gap.confirmed_call_ms), x(gap.record_ms)
        out.append(
            f'<line class="lag" x1="{c1}" y1="{provider_y}" x2="{c2}" y2="{provider_y}" '
            f'stroke="#6f42c1" stroke-width="2"/>'
            f'<text x="{c1 - 6}" y="{provider_y + 4}" text-anchor="end" fill="#6f42c1">'
            f"call → provider record: {gap.call_to_record_ms:,} ms</text>"
        )
    if gap and gap.record_ms is not None:
        gy = _MARGIN_TOP - 22
        x1, x2 = x(gap.first_destructive_ms), x(gap.record_ms)
        out.append(
            f'<line class="gap" x1="{x1}" y1="{gy}" x2="{x2}" y2="{gy}" stroke="#b31d28" '
            f'stroke-width="2"/><line x1="{x1}" y1="{gy - 5}" x2="{x1}" y2="{gy + 5}" '
            f'stroke="#b31d28"/><line x1="{x2}" y1="{gy - 5}" x2="{x2}" y2="{gy + 5}" stroke="#b31d28"/>'
        )
        out.append(
            f'<text x="{(x1 + x2) / 2}" y="{gy - 8}" text-anchor="middle" fill="#b31d28">'
            f"first destructive call → provider record: {gap.gap_ms:,} ms</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


def _row_tip(row: TimelineRow) -> str:
    tip = f"T+{row.offset_ms:,} ms {row.source}: {row.what}"
    if row.target:
        tip += f" on {row.target}"
    if row.target_env not in (None, "unknown"):
        tip += f" ({row.target_env})"
    return tip


def chart_height(svg: str) -> int:
    """The height an SVG of `timeline_svg` declares (to size a frame around it)."""
    return int(float(svg.split('height="', 1)[1].split('"', 1)[0])) if 'height="' in svg else 0


@dataclass(frozen=True)
class Label:
    x: float  # left edge (text-anchor start)
    text: str  # fits its slot
    tip: str  # everything it stands for (hover)


def _slots(
    steps: list[Step], x: Callable[[int], float], plot_w: int
) -> list[tuple[float, float, list[Step]]]:
    """Steps by slot of the plot: (slot left, slot width, steps), slots in order."""
    count = max(1, int(plot_w // _SLOT_PX))
    width = plot_w / count
    by_slot: dict[int, list[Step]] = {}
    for step in steps:
        index = min(count - 1, int((x(step.offset_ms) - _MARGIN_LEFT) // width))
        by_slot.setdefault(index, []).append(step)
    return [(_MARGIN_LEFT + i * width, width, by_slot[i]) for i in sorted(by_slot)]


def _label(left: float, width: float, text: str, tip: list[str]) -> Label:
    """A label at the slot's left edge, cut to the slot's width."""
    chars = int((width - 6) // _CHAR_PX)
    return Label(round(left + 2, 1), _cut(text, chars), "\n".join(tip))


def flag_labels(steps: list[Step], x: Callable[[int], float], plot_w: int) -> list[Label]:
    """One flag per slot: the rule (with how many steps it fires on) or how many findings."""
    labels = []
    for left, width, members in _slots([s for s in steps if s.fired], x, plot_w):
        rules = [rule for s in members for rule in s.fired]
        distinct = list(dict.fromkeys(rules))
        if len(distinct) == 1:
            text = distinct[0] + (f" x{len(rules)}" if len(rules) > 1 else "")
        else:
            text = f"{len(rules)} findings"
        tip = [f"T+{s.offset_ms:,} ms: {', '.join(s.fired)}" for s in members]
        labels.append(_label(left, width - _FLAG_PX, text, tip))
    return labels


def step_labels(steps: list[Step], x: Callable[[int], float], plot_w: int) -> list[Label]:
    """One label per slot: the destructive call, or how many there are."""
    labels = []
    for left, width, members in _slots(steps, x, plot_w):
        text = members[0].what if len(members) == 1 else f"{len(members)} destructive calls"
        tip = [f"T+{s.offset_ms:,} ms: {s.what}" for s in members]
        labels.append(_label(left, width, text, tip))
    return labels


def _cut(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: max(chars - 1, 1)] + "…"


_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em;
       color: #24292e; }
table { border-collapse: collapse; margin-top: 1em; }
th, td { border: 1px solid #d1d5da; padding: 4px 8px; vertical-align: top; font-size: 13px; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.destructive td.step { color: #b31d28; font-weight: bold; }
code { font-size: 12px; color: #444; font-weight: normal; }
.sub { color: #586069; font-weight: normal; font-size: 12px; }
.fires { color: #b31d28; font-weight: bold; }
"""


def to_html(report: TimelineReport) -> str:
    """One page, no external resources: inline CSS and SVG only."""
    return scrub(_html(report)) or ""


def _html(report: TimelineReport) -> str:
    rows = []
    for step in report.steps:
        cell = escape(_step_text(step))
        if step.detail and step.detail != step.what:
            cell += f"<br><code>{escape(step.detail)}</code>"
        for row in step.rows[1:]:
            cell += f'<br><span class="sub">{escape(row_note(row))}</span>'
        target = escape(step.target or "")
        if step.target_env not in (None, "unknown"):
            target += f" <b>({escape(step.target_env)})</b>"
        rows.append(
            f'<tr class="{"destructive" if step.destructive else ""}">'
            f'<td class="num">{step.offset_ms:,}</td><td>{escape(", ".join(step.sources))}</td>'
            f"<td>{escape(step.actor or '')}</td>"
            f'<td class="step">{cell}</td><td>{target}</td>'
            f'<td class="fires">{escape(", ".join(step.fired))}</td></tr>'
        )
    start = report.start.isoformat(timespec="milliseconds") if report.start else "-"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(report.title)}</title>
<style>{_CSS}</style></head>
<body>
<h1>{escape(report.title)}</h1>
<p>T+0 = {escape(start)} UTC. {len(report.rows)} rows in {report.total_steps} steps.
{escape(report.count_line or "")}</p>
<p class="gap-sentence">{escape(gap_sentence(report))}</p>
{timeline_svg(report)}
<table>
<thead><tr><th>T+ ms</th><th>sources</th><th>actor</th><th>step</th><th>target</th><th>fires</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
<p class="sub">Generated by agentaudit. Red: destructive. Dashed lines join the rows of one step
(the agent's call, its shell line and the provider's record). A red flag marks where findings fire (hover for them).</p>
</body></html>
"""
