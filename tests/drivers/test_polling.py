"""The drivers' waits (an HAProxy drain, nginx's old workers, an AWS target's health) poll on
the clock they are given, so their logic runs here on fake time, without a balancer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from baton.balancers.elbv2 import ELBv2Balancer
from baton.balancers.haproxy import HAProxyBalancer
from baton.balancers.nginx import NginxBalancer
from baton.clock import FakeClock
from baton.drivers import elbv2, haproxy, nginx
from baton.drivers.bundle import Drivers
from baton.drivers.factory import load_balancer_driver

ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef"


async def test_an_haproxy_drain_waits_the_timeout_of_fake_time_for_sessions_to_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock()
    lb = HAProxyBalancer(type="haproxy", socket=Path("/nowhere"), backend="app", timeout=2.0)
    driver = haproxy.HAProxyDriver(lb, clock)
    asked: list[float] = []

    async def sessions() -> dict[str, int]:
        asked.append(clock.monotonic())
        return {"web1": 1}  # a session that never ends

    monkeypatch.setattr(driver, "_sessions", sessions)
    await driver._wait_drained("web1")
    assert clock.monotonic() == pytest.approx(2.0)
    assert len(asked) == round(2.0 / haproxy.DRAIN_POLL) + 1


async def test_nginx_waits_until_the_old_workers_are_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    lb = NginxBalancer(type="nginx", file=Path("/etc/nginx/up.conf"), upstream="app", timeout=5)
    driver = nginx.NginxDriver(lb, clock)
    generations = iter([{10, 11, 20}, {11, 20}, {20}])

    async def workers() -> set[int]:
        return next(generations)

    monkeypatch.setattr(driver, "_workers", workers)
    await driver._wait_for_exit({10, 11})
    assert clock.monotonic() == pytest.approx(2 * nginx.DRAIN_POLL)


async def test_an_aws_target_is_watched_until_healthy_or_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock()
    lb = ELBv2Balancer(type="elbv2", target_group_arn=ARN, servers={"web1": "i-1"}, timeout=1)
    driver = elbv2.ELBv2Driver(lb, clock)
    states = iter(["initial", "initial", "healthy"])

    async def health(target: dict[str, Any]) -> dict[str, str]:
        return {"State": next(states, "healthy"), "Reason": ""}

    monkeypatch.setattr(driver, "_health", health)
    found = await driver._until({"Id": "i-1"}, lambda h: h["State"] == "healthy")
    assert (found["State"], clock.monotonic()) == ("healthy", pytest.approx(2 * elbv2.POLL))
    never = await driver._until({"Id": "i-1"}, lambda h: h["State"] == "draining")
    assert never["State"] == "healthy" and clock.monotonic() == pytest.approx(2 * elbv2.POLL + 1)


def test_the_driver_factory_hands_each_kind_the_clock() -> None:
    clock = FakeClock()
    lb = HAProxyBalancer(type="haproxy", socket=Path("/nowhere"), backend="app")
    driver = Drivers.real(clock).load_balancer(lb)
    assert isinstance(driver, haproxy.HAProxyDriver) and driver.clock is clock
    assert load_balancer_driver(lb).clock is not clock  # type: ignore[attr-defined]
