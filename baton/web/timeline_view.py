"""The dashboard's timeline picture: a deploy's spans laid out as SVG geometry for a template.

The spans come from :mod:`baton.history.timeline`, as they do for ``baton show --timeline``;
this module only decides where each one goes. Time runs across from the deploy's start
(``X0``) to its end or now (``X1``); each server has a row, its time out of rotation a tall
pale band, and each step, health check and wait a bar inside it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from baton.history.timeline import OUT_OF_ROTATION, OUTCOME, DeployTimeline, ServerRow, Span

WIDTH = 1000
X0, X1 = 130.0, 990.0
AXIS = 26
ROW = 30
WAVE_GAP = 8
CHAR_WIDTH = 6.2
"""Roughly how wide a character of the 11px label font is, in viewBox units."""
TICKS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600)
LEGEND = (
    ("out_of_rotation succeeded", "out of rotation"),
    ("out_of_rotation left-out", "left out of rotation"),
    ("step succeeded", "step"),
    ("health_check succeeded", "health check"),
    ("wait succeeded", "wait"),
    ("capacity succeeded", "waiting for capacity"),
    ("step failed", "failed"),
    ("step interrupted", "interrupted"),
    ("outcome cancelled", "cancelled"),
    ("step running", "running now"),
)
"""(classes of a sample span, meaning)."""


@dataclass(frozen=True)
class Scale:
    start: float
    seconds: float

    @property
    def per_second(self) -> float:
        return (X1 - X0) / max(self.seconds, 0.001)

    def x(self, at: float) -> float:
        return X0 + (at - self.start) * self.per_second


def picture(timeline: DeployTimeline) -> dict[str, Any]:
    """Everything ``_timeline.html`` draws: figures, rows of rectangles, axis ticks, legend."""
    scale = Scale(timeline.start, timeline.wall_time)
    rows, y = [], float(AXIS)
    grouped = _grouped(timeline)
    previous = None
    for row in timeline.rows:
        if grouped and previous is not None and row.group != previous:
            y += WAVE_GAP
        rows.append(_row(row, scale, y, grouped and row.group != previous and row.group > 0))
        previous, y = row.group, y + ROW
    return {
        "timeline": timeline,
        "figures": _figures(timeline),
        "width": WIDTH,
        "height": int(y) + 4,
        "x0": X0,
        "x1": X1,
        "t0": timeline.start,
        "per_second": scale.per_second,
        "ticks": _ticks(scale, y),
        "rows": rows,
        "legend": LEGEND,
    }


def _grouped(timeline: DeployTimeline) -> bool:
    groups = [r.group for r in timeline.rows if r.group]  # 0: a deploy-wide phase
    return 1 < len(set(groups)) < len(groups)


def _figures(timeline: DeployTimeline) -> dict[str, Any]:
    longest = timeline.longest_out
    return {
        "wall_time": timeline.wall_time,
        "longest_out": None
        if longest is None
        else {"server": longest.server, "seconds": longest.out_of_rotation},
        "waits": timeline.waits,
        "estimated_waits": timeline.estimated_waits,
        "servers": [
            {
                "server": r.server,
                "status": r.status,
                "total": r.total if r.start is not None else None,
                "out_of_rotation": r.out_of_rotation,
            }
            for r in timeline.rows
        ],
    }


def _row(row: ServerRow, scale: Scale, y: float, wave_label: bool) -> dict[str, Any]:
    return {
        "server": row.server,
        "status": row.status,
        "group": row.group,
        "wave_label": wave_label,
        "y": y,
        "text_y": y + ROW / 2 + 4,
        "spans": [_rect(span, scale, y) for span in row.spans],
    }


def _rect(span: Span, scale: Scale, y: float) -> dict[str, Any]:
    x = scale.x(span.start)
    width = max(scale.x(span.end) - x, 1.5)
    if span.kind == OUT_OF_ROTATION:
        top, height = y + 2, ROW - 4
    elif span.kind == OUTCOME:
        x, width, top, height = x - 2, 4.0, y + 1, ROW - 2
    else:
        top, height = y + 8, ROW - 16
    label = span.label if span.kind not in {OUT_OF_ROTATION, OUTCOME} else ""
    fits = len(label) * CHAR_WIDTH + 6 <= width
    return {
        "span": span,
        "text": label if fits else "",
        "text_x": round(x + 3, 2),
        "text_y": y + ROW / 2 + 4,
        "x": round(x, 2),
        "y": top,
        "width": round(width, 2),
        "height": height,
        "classes": _classes(span),
        "title": _title(span),
    }


def _classes(span: Span) -> str:
    status = span.status.replace(" ", "-")
    return f"span {span.kind} {status}"


def _title(span: Span) -> str:
    if span.kind == OUTCOME:
        return f"{span.server}: {span.label} at {_clock(span.start)}"
    return (
        f"{span.server}: {span.label}: {span.status}, {span.duration:.2f}s "
        f"({_clock(span.start)} → {_clock(span.end)})"
    )


def _clock(stamp: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(stamp)) + f".{int(stamp % 1 * 10)}"


def _ticks(scale: Scale, bottom: float) -> list[dict[str, Any]]:
    step = next((t for t in TICKS if scale.seconds / t <= 10), TICKS[-1])
    ticks, n = [], 0
    while n * step <= scale.seconds + 1e-9:
        ticks.append({"x": round(X0 + n * step * scale.per_second, 2), "label": f"{n * step:g}s"})
        n += 1
    return [{**t, "bottom": bottom} for t in ticks]
