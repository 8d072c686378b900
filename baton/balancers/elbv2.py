"""AWS Elastic Load Balancing v2: a target group, through the AWS API (boto3, imported by the
driver only)."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from baton.balancers import Flag, InitOffer, Kind, driver_in, register
from baton.config.balancing import LoadBalancer
from baton.config.validation import Check
from baton.config.values import HttpURL, PathError

if TYPE_CHECKING:
    from baton.sandbox.fleet import Sandbox

TARGET_GROUP_ARN = (
    r"^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup/[A-Za-z0-9-]{1,32}/"
    r"[0-9a-f]{16}$"
)


@dataclass(frozen=True, kw_only=True)
class ELBv2Balancer(LoadBalancer):
    """An AWS Elastic Load Balancing v2 target group; ``servers`` maps each server to its target
    (instance id or IP, with ``:port`` when not the group's port)."""

    type: Literal["elbv2"]
    """The kind of load balancer."""
    target_group_arn: Annotated[str, Check("Field", pattern=TARGET_GROUP_ARN)]
    """The target group's ARN; credentials come from the AWS chain, never the manifest."""
    region: Annotated[str, Check("Field", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] | None = None
    """The target group's region (by default the one its ARN names)."""
    endpoint_url: HttpURL | None = None
    """Another endpoint for the API (a VPC endpoint; moto in tests)."""

    @property
    def region_name(self) -> str:
        return self.region or self.target_group_arn.split(":")[3]

    def describe(self) -> str:
        return f"target group {self.target_group_arn.rsplit(':', 1)[-1]}"

    def check_servers(self, names: list[str]) -> None:
        """Every server needs its target: AWS knows instances and IPs, not baton's names."""
        unmapped = [name for name in names if name not in self.servers]
        if unmapped:
            raise PathError(
                ("servers",),
                f"server(s) {', '.join(unmapped)} have no target: map each server to its "
                "instance id or IP (id:port when not the target group's port)",
            )
        for server, target in self.servers.items():
            if target.count(":") > 1 or not re.match(r"^[^:]+(:\d{1,5})?$", target):
                raise PathError(
                    ("servers", server),
                    f"{target!r} is not a target: an instance id or IP, optionally :port",
                )


def _starter(args: argparse.Namespace, servers: list[dict[str, Any]]) -> dict[str, Any] | None:
    if args.elbv2 is None:
        return None
    port = f":{args.app_port}" if args.app_port else ""
    targets = {s["name"]: f"{s['address']}{port}" for s in servers}
    return {"name": "alb", "type": "elbv2", "target_group_arn": args.elbv2, "servers": targets}


class ELBv2Sandbox:
    """A cloud load balancer on one machine: moto's server is the control plane baton talks
    to, and a HAProxy data plane follows moto's target group ``lag`` seconds late
    (:mod:`baton.sandbox.cloud`), as AWS's nodes do."""

    def check(self, lag: float) -> None:
        try:
            import boto3  # noqa: F401
            import moto  # noqa: F401
        except ImportError:
            raise ValueError(
                "--balancer elbv2 needs boto3 and moto[server]: pip install 'baton[sandbox-aws]'"
            ) from None

    def start(self, sandbox: Sandbox) -> None:
        from baton.balancers.haproxy import SANDBOX as DATA_PLANE
        from baton.sandbox.manifest import APP_PORT
        from baton.sandbox.moto import create_target_group, start_moto

        DATA_PLANE.start(sandbox)
        moto = start_moto(sandbox.directory / "moto.log")
        sandbox.pids["moto"], sandbox.endpoint_url = moto.pid, moto.endpoint_url
        sandbox.save()
        targets = {s.address: APP_PORT for s in sandbox.servers}
        sandbox.target_group_arn = create_target_group(moto.endpoint_url, targets)
        sandbox.save()

    def set_lag(self, sandbox: Sandbox, lag: float) -> None:
        from baton.sandbox.balancers import CLOUD_MODULE, members, spawn
        from baton.sandbox.manifest import BACKEND

        command = ["--endpoint", sandbox.endpoint_url, "--target-group", sandbox.target_group_arn]
        command += ["--socket", str(sandbox.haproxy_socket), "--backend", BACKEND]
        command += [f"--member={n}={m}" for n, m in members(sandbox).items()]
        spawn(sandbox, "cloud", CLOUD_MODULE, [*command, "--lag", str(lag)])

    def lag_in_place(self, sandbox: Sandbox, lag: float) -> bool:
        from baton.sandbox.balancers import CLOUD_MODULE
        from baton.sandbox.processes import is_ours

        return is_ours(sandbox.pids.get("cloud"), CLOUD_MODULE)

    def processes(self, sandbox: Sandbox) -> list[tuple[int | None, str]]:
        from baton.balancers.haproxy import SANDBOX as DATA_PLANE
        from baton.sandbox.balancers import CLOUD_MODULE, MOTO_MODULE

        return [
            *DATA_PLANE.processes(sandbox),
            (sandbox.pids.get("moto"), MOTO_MODULE),
            (sandbox.pids.get("cloud"), CLOUD_MODULE),
        ]

    def manifest_keys(self, sandbox: Sandbox) -> dict[str, Any]:
        from baton.sandbox.balancers import members

        return {"target_group_arn": sandbox.target_group_arn,
                "endpoint_url": sandbox.endpoint_url, "servers": members(sandbox)}  # fmt: skip

    async def membership(self, sandbox: Sandbox) -> dict[str, str]:
        """What the HAProxy data plane routes to, never what moto was told."""
        from baton.balancers.haproxy import SANDBOX as DATA_PLANE

        return await DATA_PLANE.membership(sandbox)

    def exports(self) -> dict[str, str]:
        """moto takes any credentials; the manifest never holds them."""
        from baton.sandbox.moto import CREDENTIALS

        return dict(CREDENTIALS)


KIND = register(
    Kind(
        type="elbv2",
        model=ELBv2Balancer,
        driver=driver_in("baton.drivers.elbv2", "ELBv2Driver"),
        hints={
            "target_group_arn": "arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID",
            "region": "an AWS region such as eu-west-1",
            "endpoint_url": "an http:// or https:// URL",
        },
        init=InitOffer(
            (Flag("--elbv2", "TARGET_GROUP_ARN", "an AWS ALB/NLB target group of the servers"),),
            _starter,
        ),
        sandbox=ELBv2Sandbox(),
    )
)
