"""ELBv2Driver against moto's standalone server (the AWS API, on loopback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from baton import LoadBalancerError
from baton.drivers import Membership
from baton.drivers.elbv2 import ELBv2Driver
from baton.drivers.factory import load_balancer_driver
from baton.sandbox.moto import MotoServer, client, create_target_group, start_moto
from tests.drivers.conftest import elbv2_balancer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("aws_environment")]

IN, OUT, DOWN = Membership.IN_ROTATION, Membership.OUT_OF_ROTATION, Membership.DOWN
TARGETS = {"127.0.1.120": 8000, "127.0.1.121": 8000}


def registered(moto: MotoServer, arn: str) -> set[str]:
    """What AWS (moto) has in the target group, asked directly."""
    health = client(moto.endpoint_url).describe_target_health(TargetGroupArn=arn)
    return {d["Target"]["Id"] for d in health["TargetHealthDescriptions"]}


async def test_remove_deregisters_and_add_registers(moto: MotoServer) -> None:
    arn = create_target_group(moto.endpoint_url, TARGETS)
    driver = load_balancer_driver(elbv2_balancer(moto.endpoint_url, arn))
    assert isinstance(driver, ELBv2Driver)
    assert await driver.preflight() == []
    assert await driver.membership() == {"a": IN, "b": IN}

    await driver.remove("a")
    assert registered(moto, arn) == {"127.0.1.121"}
    assert await driver.membership() == {"b": IN}  # a deregistered target leaves the group
    await driver.remove("a")  # already out: nothing to do, no error

    await driver.add("a")
    assert registered(moto, arn) == {"127.0.1.120", "127.0.1.121"}
    assert await driver.membership() == {"a": IN, "b": IN}


async def test_a_stopped_instance_is_down_and_aws_refuses_to_register_it(
    moto: MotoServer,
) -> None:
    ec2 = client(moto.endpoint_url, "ec2")
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)
    instance_id = instance["Instances"][0]["InstanceId"]
    arn = create_target_group(moto.endpoint_url, {})
    driver = ELBv2Driver(elbv2_balancer(moto.endpoint_url, arn, servers={"a": instance_id}))
    client(moto.endpoint_url).register_targets(TargetGroupArn=arn, Targets=[{"Id": instance_id}])
    ec2.stop_instances(InstanceIds=[instance_id])  # AWS reports a stopped instance "unused"
    assert await driver.membership() == {"a": DOWN}
    await driver.remove("a")
    assert await driver.membership() == {}
    with pytest.raises(LoadBalancerError) as refused:
        await driver.add("a")
    assert str(refused.value) == (
        f"load balancer alb (target group {arn.split(':')[-1]} at {moto.endpoint_url}): "
        "register_targets refused: InvalidTarget: The following targets are not in a running "
        f"state and cannot be registered: '{instance_id}'"
    )


async def test_a_server_the_group_lacks_and_a_missing_group(moto: MotoServer) -> None:
    arn = create_target_group(moto.endpoint_url, {"127.0.1.121": 8000})
    assert await ELBv2Driver(elbv2_balancer(moto.endpoint_url, arn)).membership() == {"b": IN}
    gone = arn[:-16] + "0123456789abcdef"
    with pytest.raises(LoadBalancerError, match="TargetGroupNotFound"):
        await ELBv2Driver(elbv2_balancer(moto.endpoint_url, gone)).preflight()


async def test_a_long_deregistration_delay_is_announced(moto: MotoServer) -> None:
    arn = create_target_group(moto.endpoint_url, TARGETS, delay=300)
    [warning] = await ELBv2Driver(elbv2_balancer(moto.endpoint_url, arn)).preflight()
    assert "deregistration delay (300s) is longer than the balancer's timeout (2s)" in warning


async def test_credentials_missing_or_rejected_in_one_line(
    moto: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    arn = create_target_group(moto.endpoint_url, TARGETS)
    strict = start_moto(tmp_path / "strict.log", authenticate=True)
    try:
        driver = ELBv2Driver(elbv2_balancer(strict.endpoint_url, arn))
        with pytest.raises(LoadBalancerError) as rejected:
            await driver.preflight()
    finally:
        strict.stop()
    assert "AWS rejected the credentials (InvalidClientTokenId)" in str(rejected.value)
    assert "\n" not in str(rejected.value)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(LoadBalancerError, match=r"^load balancer alb .*no AWS credentials found"):
        await ELBv2Driver(elbv2_balancer(moto.endpoint_url, arn)).preflight()


async def test_an_unreachable_endpoint_is_reported(moto: MotoServer) -> None:
    arn = create_target_group(moto.endpoint_url, TARGETS)
    driver = ELBv2Driver(elbv2_balancer("http://127.0.0.1:9", arn))
    with pytest.raises(LoadBalancerError, match=r"Could not connect to the endpoint URL"):
        await driver.membership()
