"""An AWS Elastic Load Balancing v2 target group (ALB or NLB), through boto3.

Taking a server out deregisters its target and waits, up to the balancer's timeout, until AWS
no longer reports it ``draining``; putting it back registers it and waits until it is
``healthy``. The API answers before the load balancer's nodes act on it, which is why the
manifest's waits still apply after each change. Credentials come from the standard AWS chain
(environment, profile, instance role) and never from the manifest. boto3 is imported here only,
when a driver is first used, so that nothing else pays for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from baton._exceptions import LoadBalancerError
from baton.clock import SYSTEM_CLOCK, Clock, poll_until
from baton.config.model import ELBv2Balancer
from baton.drivers.loadbalancer import LoadBalancerDriver, Membership

T = TypeVar("T")
POLL = 0.2
"""Seconds between target health reads while a target drains or becomes healthy."""
NOT_REGISTERED = "Target.NotRegistered"
STATES = {"healthy": Membership.IN_ROTATION, "draining": Membership.OUT_OF_ROTATION}
"""AWS target states; every other one (initial, unhealthy, unused, unavailable) is DOWN."""
CREDENTIAL_ERRORS = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "AuthFailure",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
}


class ELBv2Driver(LoadBalancerDriver):
    """Registers and deregisters the targets of one target group."""

    def __init__(self, lb: ELBv2Balancer, clock: Clock = SYSTEM_CLOCK) -> None:
        self.lb = lb
        self.name = lb.name
        self.clock = clock
        self._client: Any = None

    def __repr__(self) -> str:
        return f"ELBv2Driver({self.name!r}, {self.lb.target_group_arn!r})"

    async def preflight(self) -> list[str]:
        """Credentials work and the group exists; warn when its drain outlasts our timeout."""
        reply = await self._call("describe_target_group_attributes")
        attributes = {a["Key"]: a["Value"] for a in reply.get("Attributes", [])}
        delay = int(attributes.get("deregistration_delay.timeout_seconds", "0") or 0)
        if delay <= self.lb.timeout:
            return []
        return [
            f"load balancer {self.name}: the target group's deregistration delay ({delay}s) is "
            f"longer than the balancer's timeout ({self.lb.timeout:g}s): baton stops waiting for "
            f"a server to drain after {self.lb.timeout:g}s; raise timeout or lower the delay"
        ]

    async def remove(self, server: str) -> None:
        """Deregister the target, then wait until it is no longer draining."""
        target = self._target(server)
        if (await self._health(target))["Reason"] != NOT_REGISTERED:
            await self._call("deregister_targets", Targets=[target])
        health = await self._until(target, lambda h: h["State"] != "draining")
        if health["State"] != "draining" and health["Reason"] != NOT_REGISTERED:
            raise self._error(f"{server} is still {_state(health)} after deregistering")

    async def add(self, server: str) -> None:
        """Register the target, then wait until AWS reports it healthy."""
        target = self._target(server)
        await self._call("register_targets", Targets=[target])
        health = await self._until(target, lambda h: h["State"] == "healthy")
        if health["State"] != "healthy":
            raise self._error(
                f"{server} is registered but {_state(health)} after {self.lb.timeout:g}s "
                "(the balancer's timeout; the target group's health check decides when it "
                "becomes healthy)"
            )

    async def membership(self) -> dict[str, Membership]:
        """Every registered (or draining) target; a deregistered one is not in the group."""
        reply = await self._call("describe_target_health")
        found: dict[str, Membership] = {}
        for description in reply.get("TargetHealthDescriptions", []):
            target, health = description["Target"], description["TargetHealth"]
            name = self._baton_name(target["Id"], target.get("Port"))
            found[name] = STATES.get(health.get("State", ""), Membership.DOWN)
        return found

    def _target(self, server: str) -> dict[str, Any]:
        target_id, _, port = self.lb.member_name(server).partition(":")
        return {"Id": target_id, "Port": int(port)} if port else {"Id": target_id}

    def _baton_name(self, target_id: str, port: int | None) -> str:
        """The server mapped to this target at this port, or to the target at any port."""
        member = f"{target_id}:{port}" if port else target_id
        return self.lb.mapped_server(member) or self.lb.mapped_server(target_id) or member

    async def _health(self, target: dict[str, Any]) -> dict[str, str]:
        reply = await self._call("describe_target_health", Targets=[target])
        descriptions = reply.get("TargetHealthDescriptions", [])
        health = descriptions[0]["TargetHealth"] if descriptions else {}
        return {"State": health.get("State", "unused"), "Reason": health.get("Reason", "")}

    async def _until(
        self, target: dict[str, Any], done: Callable[[dict[str, str]], bool]
    ) -> dict[str, str]:
        """The target's health once ``done`` holds, or as it is when lb.timeout runs out."""
        return await poll_until(
            lambda: self._health(target),
            done,
            timeout=self.lb.timeout,
            interval=POLL,
            clock=self.clock,
        )

    async def _call(self, operation: str, **arguments: Any) -> Any:
        """One API call for this target group, in a thread (boto3 blocks)."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        arguments["TargetGroupArn"] = self.lb.target_group_arn
        try:
            client = self._client or await asyncio.to_thread(self._connect)
            reply = await asyncio.to_thread(getattr(client, operation), **arguments)
        except NoCredentialsError:
            raise self._error(
                "no AWS credentials found: give them through the environment "
                "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), a profile (AWS_PROFILE) or an "
                "instance role; the manifest never holds them"
            ) from None
        except ClientError as error:
            raise self._client_error(operation, error) from None
        except BotoCoreError as error:
            raise self._error(f"{operation}: {error}") from None
        return reply

    def _connect(self) -> Any:
        import boto3
        from botocore.config import Config

        config = Config(
            connect_timeout=self.lb.timeout,
            read_timeout=self.lb.timeout,
            retries={"max_attempts": 2, "mode": "standard"},
        )
        session = boto3.session.Session()
        self._client = session.client(
            "elbv2", region_name=self.lb.region_name, endpoint_url=self.lb.endpoint_url,
            config=config,
        )  # fmt: skip
        return self._client

    def _client_error(self, operation: str, error: Any) -> LoadBalancerError:
        details = error.response.get("Error", {})
        code, message = details.get("Code", "?"), details.get("Message", "")
        if code in CREDENTIAL_ERRORS:
            return self._error(f"AWS rejected the credentials ({code}): {message}")
        return self._error(f"{operation} refused: {code}: {message}")

    def _error(self, message: str) -> LoadBalancerError:
        where = self.lb.endpoint_url or self.lb.region_name
        return LoadBalancerError(
            f"load balancer {self.name} ({self.lb.describe()} at {where}): {message}"
        )


def _state(health: dict[str, str]) -> str:
    reason = f" ({health['Reason']})" if health.get("Reason") else ""
    return f"{health['State']}{reason}"
