"""``baton show ID --timeline``: a deploy's timeline drawn on the terminal, one row per server.

Each character cell covers an equal slice of the deploy's wall time and shows what mattered
most on that server then (a failure over a step, a step over being out of rotation). On a
terminal the cells are coloured blocks; elsewhere (a pipe, a file, ``NO_COLOR``) plain ASCII.
"""

from __future__ import annotations

from baton.history.timeline import (
    CAPACITY,
    HEALTH_CHECK,
    INTERRUPTED,
    LEFT_OUT,
    OUT_OF_ROTATION,
    OUTCOME,
    STEP,
    WAIT,
    DeployTimeline,
    ServerRow,
    Span,
)

# (cell key, ASCII character, ANSI colour, meaning), most important first.
CELLS = (
    ("failed", "X", "31", "failed"),
    ("interrupted", "!", "35", "interrupted / cancelled"),
    (STEP, "#", "34", "step"),
    (HEALTH_CHECK, "h", "32", "health check"),
    (WAIT, "w", "33", "wait"),
    (CAPACITY, "c", "36", "waiting for capacity"),
    (LEFT_OUT, "=", "31", "left out of rotation"),
    (OUT_OF_ROTATION, "-", "90", "out of rotation"),
    ("busy", ".", "37", "deploying, in rotation"),
)
RANK = {key: n for n, (key, *_) in enumerate(CELLS)}
ASCII = {key: char for key, char, _, _ in CELLS}
COLOUR = {key: colour for key, _, colour, _ in CELLS}
BLOCK = {OUT_OF_ROTATION: "░", LEFT_OUT: "▒", "busy": "·"}
TOTALS_WIDTH = 22
TICKS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600)


def render(timeline: DeployTimeline, width: int, fancy: bool) -> str:
    """The figures, an axis, one row per server and a legend, fitting ``width`` columns."""
    label = max([len(r.server) for r in timeline.rows] + [6]) + 1
    cells = max(width - label - TOTALS_WIDTH - 2, 10)
    slice_ = max(timeline.wall_time, 0.001) / cells
    lines = [*figures(timeline), " " * label + " " + _axis(timeline.wall_time, cells)]
    group = 0
    for row in timeline.rows:
        if row.group != group and _grouped(timeline):
            group = row.group
            if group:  # a deploy-wide phase's row is its own label
                lines.append(f"wave {group}")
        chart = "".join(
            _cell(row, timeline.start + i * slice_, slice_, fancy) for i in range(cells)
        )
        lines.append(f"{row.server:<{label}}|{chart}|{_totals(row)}")
    lines += _legend(fancy, width)
    return "\n".join(lines)


def figures(timeline: DeployTimeline) -> list[str]:
    longest = timeline.longest_out
    out = (
        f"{longest.server} {longest.out_of_rotation:.1f}s"
        if longest is not None
        else "no server was taken out"
    )
    return [
        f"wall time {timeline.wall_time:.1f}s; longest out of rotation: {out}; "
        f"waits {timeline.waits:.1f}s (plan estimated {timeline.estimated_waits}s)"
    ]


def _grouped(timeline: DeployTimeline) -> bool:
    """Label waves only when one holds several servers (a serial deploy is one per server)."""
    groups = [r.group for r in timeline.rows if r.group]
    return len(set(groups)) < len(groups) and len(set(groups)) > 1


def _totals(row: ServerRow) -> str:
    if row.start is None:
        return f" {row.status}"
    return f" {row.total:6.1f}s, out {row.out_of_rotation:5.1f}s"


def _axis(wall: float, cells: int) -> str:
    step = next((t for t in TICKS if wall / t <= cells / 10), TICKS[-1])
    axis = [" "] * cells
    tick = 0.0
    while tick <= wall:
        column = int(tick / max(wall, 0.001) * (cells - 1))
        text = f"{tick:g}s"
        if column + len(text) <= cells and all(c == " " for c in axis[column : column + len(text)]):
            axis[column : column + len(text)] = text
        tick += step
    return "".join(axis)


def _cell(row: ServerRow, start: float, length: float, fancy: bool) -> str:
    end = start + length
    keys = [_key(s) for s in row.spans if s.start < end and (s.end > start or s.start >= start)]
    if row.start is not None and row.end is not None and row.start < end and row.end > start:
        keys.append("busy")
    if not keys:
        return " "
    key = min(keys, key=RANK.__getitem__)
    if not fancy:
        return ASCII[key]
    return f"\x1b[{COLOUR[key]}m{BLOCK.get(key, '█')}\x1b[0m"


def _key(span: Span) -> str:
    if span.kind == OUTCOME:
        return "failed" if span.status == "failed" else "interrupted"
    if span.kind == OUT_OF_ROTATION:
        return LEFT_OUT if span.status == LEFT_OUT else OUT_OF_ROTATION
    if span.status in {"failed", "timed out"}:
        return "failed"
    if span.status == INTERRUPTED:
        return "interrupted"
    return span.kind


def _legend(fancy: bool, width: int) -> list[str]:
    """The legend, wrapped to ``width`` (measured without the colour codes)."""
    lines, line, shown = [], "legend:", len("legend:")
    for key, char, colour, text in CELLS:
        mark = f"\x1b[{colour}m{BLOCK.get(key, '█')}\x1b[0m" if fancy else char
        if shown + 3 + len(text) > width:
            lines.append(line)
            line, shown = "       ", 7
        line += f"  {mark} {text}"
        shown += 3 + len(text)
    return [*lines, line]
