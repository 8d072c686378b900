"""Manifest texts shared by the unit tests."""

from __future__ import annotations

from baton.config import Manifest, parse_manifest


def manifest_text(
    servers: int = 3,
    *,
    waits: tuple[int | None, int | None] = (None, None),
    migration: bool = True,
    health: bool = False,
    migrations_on: str | None = None,
    prepare: bool = False,
    load_balancer: bool = True,
) -> str:
    removing, adding = waits
    lines = ["application: shop", "servers:"]
    for n in range(1, servers + 1):
        lines += [f"  - name: web{n}", f"    address: 127.0.1.{n}"]
        if migrations_on == f"web{n}":
            lines.append("    migrations: true")
    lines += [
        "load_balancers:",
        "  - name: main",
        "    type: haproxy",
        "    socket: /tmp/haproxy.sock",
        "    backend: app",
        "    configuration:",
    ]
    if removing is not None:
        lines.append(f"      wait_after_removing_servers: {removing}")
    if adding is not None:
        lines.append(f"      wait_after_adding_servers: {adding}")
    lines.append("      httpchk: /")
    if not load_balancer:
        lines = lines[: lines.index("load_balancers:")]
    lines += ["deploy:", "  steps:", "    - name: fetch", "      run: fetch {version}"]
    if prepare:
        lines.append("      stage: prepare")
    if migration:
        lines += ["    - name: migrate", "      run: migrate {version}", "      migration: true"]
    lines += ["    - name: restart", "      run: restart {server}"]
    if health:
        lines += [
            "  health_check:",
            "    command: check {address}",
            "    timeout: 0.5",
            "    deadline: 1",
            "    interval: 0.1",
        ]
    return "\n".join(lines) + "\n"


def manifest(servers: int = 3, **kwargs: object) -> Manifest:
    return parse_manifest(manifest_text(servers, **kwargs))  # type: ignore[arg-type]
