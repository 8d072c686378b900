"""One way back from a balancer's member to baton's server, shared by every driver."""

from __future__ import annotations

from pathlib import Path

from baton.balancers.elbv2 import ELBv2Balancer
from baton.balancers.haproxy import HAProxyBalancer
from baton.drivers.elbv2 import ELBv2Driver

ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef"


def test_a_member_stands_for_the_server_mapped_to_it_else_for_its_own_name() -> None:
    lb = HAProxyBalancer(
        type="haproxy", socket=Path("/s"), backend="app", servers={"web1": "app1", "web2": "web1"}
    )
    assert [lb.server_for(m) for m in ("app1", "web1", "web3")] == ["web1", "web2", "web3"]
    assert (lb.mapped_server("app1"), lb.mapped_server("web3")) == ("web1", None)
    # "web2" is a server mapped to another member: a member of that name only poses as it
    lb = HAProxyBalancer(type="haproxy", socket=Path("/s"), backend="app", servers={"web2": "b"})
    assert [lb.poses_as_a_server(m) for m in ("web2", "b", "web9")] == [True, False, False]


def test_an_aws_target_is_its_server_at_that_port_or_at_any() -> None:
    servers = {"web1": "i-1", "web2": "10.0.0.2:8080", "web3": "i-3:80"}
    driver = ELBv2Driver(ELBv2Balancer(type="elbv2", target_group_arn=ARN, servers=servers))
    assert driver._baton_name("i-1", 80) == "web1"
    assert driver._baton_name("10.0.0.2", 8080) == "web2"
    assert driver._baton_name("10.0.0.2", 80) == "10.0.0.2:80"
    assert driver._baton_name("i-3", 80) == "web3"
    assert driver._baton_name("i-3", None) == "i-3"
    assert driver._baton_name("i-9", 80) == "i-9:80"
