"""``baton check``: renders what :mod:`baton.checking.check` found, as a table or JSON."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from baton.cli.common import (
    Commands,
    add_app,
    add_command,
    add_json,
    add_manifest,
    existing_store,
    manifest_for,
    print_json,
)

if TYPE_CHECKING:
    from baton.checking.findings import CheckReport, Finding, Status

EPILOG = """\
Checks, without changing anything: the manifest and its files, the secrets, each server's SSH
connection and host key (and how long it took), that each step's first command exists on each
server, that each load balancer answers and knows every server (and its membership), the
health check on every server, the lock, and the values in force with the wait estimate.

exit status: 0 a deploy could start, 1 a problem would stop it (each one says what to do),
             2 bad input (the manifest cannot be read)
"""
MARKS = {"ok": "ok", "warning": "warning", "problem": "PROBLEM", "not checked": "-"}
"""How the table shows each :class:`~baton.checking.findings.Status`, by its value (the
findings are imported by the handler, not here: see baton.cli.common)."""


def register_check(commands: Commands) -> None:
    add_command(
        commands,
        "check",
        "check everything a deploy needs, changing nothing",
        run_check,
        description="Check that a deploy of the application could start and get through.",
        epilog=EPILOG,
        arguments=(add_app, add_manifest, add_json),
    )


def run_check(args: argparse.Namespace) -> int:
    import asyncio

    from baton.checking.check import check

    manifest = manifest_for(args)
    store = existing_store(args.state)
    try:
        report = asyncio.run(check(manifest, store))
    finally:
        if store is not None:
            store.close()
    if args.json:
        print_json(report_to_dict(report))
    else:
        print(render_report(report))
    return 0 if report.ok else 1


def report_to_dict(report: CheckReport) -> dict[str, object]:
    from baton.planning import plan_to_dict

    plan = plan_to_dict(report.plan)
    return {
        "application": report.manifest.application,
        "manifest": str(report.manifest.source),
        "ok": report.ok,
        "seconds": round(report.seconds, 3),
        "findings": [f.to_dict() for f in report.findings],
        "load_balancer_values": plan["load_balancer_values"],
        "estimated_extra_seconds": plan["estimated_extra_seconds"],
        "warnings": plan["warnings"],
    }


def render_report(report: CheckReport) -> str:
    from baton.checking.findings import Status
    from baton.planning import render_values

    manifest = report.manifest
    lines = [
        f"{manifest.application}: {len(manifest.servers)} server(s) checked at once in "
        f"{report.seconds:.1f}s",
        "",
        *_table(report),
    ]
    notes = [f for f in report.findings if f.status in (Status.PROBLEM, Status.WARNING)]
    lines += ["", *(line for f in notes for line in _note(f))] if notes else []
    lines += ["", "application:"]
    width = max(len(f.check) for f in report.of_application())
    lines += [
        f"  {f.check:<{width}}  {_mark(f.status):<7}  {f.detail}" for f in report.of_application()
    ]
    lines += ["", *render_values(report.plan), *(f"WARNING: {w}" for w in report.plan.warnings)]
    lines += ["", _verdict(report)]
    return "\n".join(lines)


def _table(report: CheckReport) -> list[str]:
    columns = report.columns()
    rows = [["server", *columns]]
    for server in report.manifest.servers:
        found = report.of_server(server.name)
        rows.append([server.name, *(_cell(found.get(c)) for c in columns)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


def _cell(finding: Finding | None) -> str:
    from baton.checking.findings import Status

    if finding is None:
        return "-"
    mark = _mark(finding.status)
    if finding.seconds is not None and finding.status is Status.OK:
        return f"{mark} {finding.seconds:.2f}s"
    return mark


def _mark(status: Status) -> str:
    return MARKS[status.value]


def _note(finding: Finding) -> list[str]:
    from baton.checking.findings import APPLICATION

    where = "" if finding.subject == APPLICATION else f"{finding.subject} "
    lines = [f"{where}{finding.check}: {_mark(finding.status)}: {finding.detail}"]
    return lines + ([f"  -> {finding.advice}"] if finding.advice else [])


def _verdict(report: CheckReport) -> str:
    from baton.checking.findings import Status

    warnings = sum(f.status is Status.WARNING for f in report.findings)
    also = f" ({warnings} warning(s) above)" if warnings else ""
    if report.ok:
        return f"a deploy could start now{also}"
    return f"a deploy would not get through: {len(report.problems)} problem(s) above{also}"
