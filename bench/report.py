"""Medians, ratios and the overhead against the physical limit, as Markdown tables."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from bench.harness import Run, steps_per_server
from bench.workload import Mode, ideal_seconds

REFERENCE = "baton"


@dataclass(frozen=True)
class Row:
    scenario: str
    mode: Mode
    size: int
    tool: str
    runs: int
    failed: int
    throttled: int
    """Lines in sshd's logs about MaxStartups (throttled or dropped connection starts)."""
    wall: float
    cpu: float
    cpu_per_server_step_ms: float
    peak_pss_mb: float
    max_rss_mb: float
    overhead: float
    """Seconds of wall time beyond the physical floor (per server for serial): the steps' own
    recorded time where the tool records it (baton), else the builds' sleep."""
    inner_overhead: float | None
    """baton only: the same, from its own recorded deploy and step times (see BENCHMARKS.md)."""


def summarise(runs: Iterable[Run]) -> list[Row]:
    groups: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.scenario, run.tool), []).append(run)
    return [_row(group) for group in groups.values()]


def _row(group: list[Run]) -> Row:
    first = group[0]
    good = [r for r in group if r.ok] or group
    mode: Mode = "serial" if first.mode == "serial" else "parallel"
    wall = statistics.median(r.wall for r in good)
    cpu = statistics.median(r.cpu for r in good)
    per_server = first.size if mode == "serial" else 1
    return Row(
        scenario=first.scenario,
        mode=mode,
        size=first.size,
        tool=first.tool,
        runs=len(group),
        failed=sum(not r.ok for r in group),
        throttled=sum(r.sshd_throttled for r in group),
        wall=wall,
        cpu=cpu,
        cpu_per_server_step_ms=1000 * cpu / (first.size * steps_per_server()),
        peak_pss_mb=max(r.peak_pss_kb for r in good) / 1024,
        max_rss_mb=max(r.max_rss_kb for r in good) / 1024,
        overhead=_process_overhead(good, mode, per_server)
        or (wall - ideal_seconds(mode, first.size)) / per_server,
        inner_overhead=_inner_overhead(good, mode, per_server),
    )


def _inner_overhead(runs: list[Run], mode: Mode, per_server: int) -> float | None:
    """Parallel: deploy time - slowest server's steps; serial: (deploy - all steps) / servers."""
    values = []
    for run in runs:
        d = run.details
        if "deploy_seconds" not in d:
            return None
        own = d["steps_sum"] if mode == "serial" else d["steps_slowest_server"]
        values.append((d["deploy_seconds"] - own) / per_server)
    return statistics.median(values) if values else None


def _process_overhead(runs: list[Run], mode: Mode, per_server: int) -> float | None:
    values = []
    for run in runs:
        d = run.details
        if "deploy_seconds" not in d:
            return None
        own = d["steps_sum"] if mode == "serial" else d["steps_slowest_server"]
        values.append((run.wall - own) / per_server)
    return statistics.median(values) if values else None


def markdown(rows: list[Row]) -> str:
    """One table per scenario; ratios are the tool's figure over baton's (>1: baton ahead)."""
    out: list[str] = []
    for scenario in dict.fromkeys(r.scenario for r in rows):
        group = [r for r in rows if r.scenario == scenario]
        base = next((r for r in group if r.tool == REFERENCE), None)
        unit = "s/server" if group[0].mode == "serial" else "s"
        out += [
            f"### {scenario} ({group[0].size} servers)",
            "",
            f"| tool | runs | wall (median) | x baton | CPU s | CPU ms / server-step | x baton "
            f"| peak PSS MB | max RSS MB | overhead vs floor ({unit}) | sshd MaxStartups |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in sorted(group, key=lambda r: r.wall):
            failed = f" ({r.failed} failed)" if r.failed else ""
            out.append(
                f"| {r.tool} | {r.runs}{failed} | {r.wall:.2f} s | {_ratio(r.wall, base, 'wall')} "
                f"| {r.cpu:.2f} | {r.cpu_per_server_step_ms:.1f} "
                f"| {_ratio(r.cpu, base, 'cpu')} | {r.peak_pss_mb:.0f} | {r.max_rss_mb:.0f} "
                f"| {_overhead(r)} | {r.throttled} |"
            )
        out.append("")
    return "\n".join(out) + "\n"


def marginal(rows: list[Row]) -> str:
    """CPU per extra server-step between the two largest uncapped parallel fleets, per tool.

    Separates what a tool costs per server from what it costs to start (interpreter, imports),
    which dominates small fleets.
    """
    parallel = [r for r in rows if r.mode == "parallel" and r.scenario == f"parallel-{r.size}"]
    sizes = sorted({r.size for r in parallel})[-2:]
    if len(sizes) < 2:
        return ""
    small, large = sizes
    out = [
        f"### Marginal CPU per server-step (parallel, {small} -> {large} servers)",
        "",
        "| tool | ms / extra server-step | x baton | fixed (start-up) CPU s |",
        "| --- | ---: | ---: | ---: |",
    ]
    slopes: dict[str, tuple[float, float]] = {}
    for tool in dict.fromkeys(r.tool for r in parallel):
        by_size = {r.size: r for r in parallel if r.tool == tool}
        if small in by_size and large in by_size:
            steps = (large - small) * steps_per_server()
            slope = (by_size[large].cpu - by_size[small].cpu) / steps
            fixed = by_size[small].cpu - slope * small * steps_per_server()
            slopes[tool] = (slope, fixed)
    base = slopes.get(REFERENCE, (0.0, 0.0))[0]
    for tool, (slope, fixed) in sorted(slopes.items(), key=lambda item: item[1][0]):
        ratio = f"{slope / base:.2f}" if base > 0 else "-"
        start_up = f"{fixed:.2f}" if fixed >= 0 else "- (grows faster than linearly)"
        out.append(f"| {tool} | {1000 * slope:.2f} | {ratio} | {start_up} |")
    return "\n".join([*out, ""])


def _ratio(value: float, base: Row | None, attribute: str) -> str:
    reference = getattr(base, attribute) if base else 0.0
    return f"{value / reference:.2f}" if reference else "-"


def _overhead(row: Row) -> str:
    unit = 1000 if row.mode == "serial" else 1
    suffix = " ms" if row.mode == "serial" else " s"
    text = f"{row.overhead * unit:.{0 if row.mode == 'serial' else 2}f}{suffix}"
    if row.inner_overhead is not None:
        inner = row.inner_overhead * unit
        text += f" (in-deploy {inner:.{0 if row.mode == 'serial' else 2}f}{suffix})"
    return text
