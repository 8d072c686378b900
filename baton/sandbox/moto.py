"""moto's standalone server on loopback: the AWS API a cloud load balancer's control plane
speaks, for the elbv2 driver's tests and the sandbox's lagging cloud balancer.

:func:`create_target_group` builds what a team would have in AWS: a VPC, an application load
balancer, and an IP target group behind it with the given targets registered.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from baton.sandbox.processes import Started, free_port, in_use

REGION = "us-east-1"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "sandbox",
    "AWS_SECRET_ACCESS_KEY": "sandbox",
    "AWS_EC2_METADATA_DISABLED": "true",
}
"""moto accepts any key; these keep boto3 off the instance metadata address (not loopback)."""


@dataclass
class MotoServer(Started):
    """A running moto_server."""

    endpoint_url: str
    process: subprocess.Popen[bytes] = field(repr=False)


def start_moto(log: Path, port: int | None = None, *, authenticate: bool = False) -> MotoServer:
    """Start ``python -m moto.server`` on 127.0.0.1; ``authenticate`` makes it check every
    request's credentials (and, having no users, refuse them all)."""
    port = port or free_port()
    env = {**os.environ, **({"INITIAL_NO_AUTH_ACTION_COUNT": "0"} if authenticate else {})}
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )  # fmt: skip
    server = MotoServer(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 30
    while not in_use("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"moto_server did not start: {log.read_text()[-2000:]}")
        time.sleep(0.05)
    return server


def client(endpoint_url: str, service: str = "elbv2") -> Any:
    """A boto3 client for moto, with the sandbox's credentials."""
    import boto3

    session = boto3.session.Session(
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    return session.client(service, endpoint_url=endpoint_url)


def create_target_group(endpoint_url: str, targets: dict[str, int], delay: int = 0) -> str:
    """An IP target group behind an ALB with ``targets`` (ip -> port) registered; its ARN."""
    elbv2 = client(endpoint_url)
    vpc, balancer = _network(endpoint_url)
    name = f"baton-{uuid.uuid4().hex[:12]}"
    group = elbv2.create_target_group(
        Name=name, Protocol="HTTP", Port=8000, VpcId=vpc, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(
        LoadBalancerArn=balancer, Protocol="HTTP", Port=_next_port(),
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
    )  # fmt: skip
    elbv2.modify_target_group_attributes(
        TargetGroupArn=group,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": str(delay)}],
    )
    if targets:
        elbv2.register_targets(
            TargetGroupArn=group, Targets=[{"Id": ip, "Port": p} for ip, p in targets.items()]
        )
    return str(group)


_NETWORKS: dict[str, tuple[str, str]] = {}
_LISTENER_PORTS = iter(range(10000, 60000))


def _next_port() -> int:
    return next(_LISTENER_PORTS)


def _network(endpoint_url: str) -> tuple[str, str]:
    """A VPC and an ALB in it, made once per moto server: (VPC id, load balancer ARN)."""
    if endpoint_url not in _NETWORKS:
        ec2, elbv2 = client(endpoint_url, "ec2"), client(endpoint_url)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}"
            )
            for i, z in enumerate("ab")
        ]
        balancer = elbv2.create_load_balancer(
            Name=f"baton-{uuid.uuid4().hex[:12]}",
            Subnets=[s["Subnet"]["SubnetId"] for s in subnets],
        )["LoadBalancers"][0]["LoadBalancerArn"]
        _NETWORKS[endpoint_url] = (vpc, balancer)
    return _NETWORKS[endpoint_url]
