"""The manifest as frozen, validated objects, one module per section; every name is here too.

Everything downstream of :func:`baton.config.load_manifest` works with these classes and never
with the YAML dictionaries they came from. They are plain frozen dataclasses: pydantic validates
a manifest into them (:mod:`baton.config.validation`), and checks that span several keys run in
``__post_init__``, so a model built in code is checked as one read from a file. The sections:
:mod:`~baton.config.values` (the kinds of value), :mod:`~baton.config.servers` (servers and SSH),
:mod:`~baton.config.balancing` (load balancers), :mod:`~baton.config.steps` (steps, health,
verify), :mod:`~baton.config.deploying` (deploy, hooks, notifications) and
:mod:`~baton.config.manifest` (the whole).
"""

from baton.config.balancing import (
    LOAD_BALANCER_TYPES,
    TARGET_GROUP_ARN,
    AnyLoadBalancer,
    CommandBalancer,
    ELBv2Balancer,
    HAProxyBalancer,
    HostedBalancer,
    LoadBalancer,
    LoadBalancerConfiguration,
    Member,
    NginxBalancer,
)
from baton.config.deploying import Deploy, Hook, Hooks, Notifications, RunOn, SecretSource, Webhook
from baton.config.manifest import Manifest
from baton.config.servers import Server, SSHEndpoint
from baton.config.steps import HealthCheck, Step, Verify
from baton.config.values import (
    VERSION_PATTERN,
    EnvName,
    FilePath,
    Host,
    HttpURL,
    KeyPath,
    Name,
    PathError,
    Port,
    PositiveSeconds,
    Seconds,
    Text,
    WebURL,
)

__all__ = [
    "LOAD_BALANCER_TYPES",
    "TARGET_GROUP_ARN",
    "VERSION_PATTERN",
    "AnyLoadBalancer",
    "CommandBalancer",
    "Deploy",
    "ELBv2Balancer",
    "EnvName",
    "FilePath",
    "HAProxyBalancer",
    "HealthCheck",
    "Hook",
    "Hooks",
    "Host",
    "HostedBalancer",
    "HttpURL",
    "KeyPath",
    "LoadBalancer",
    "LoadBalancerConfiguration",
    "Manifest",
    "Member",
    "Name",
    "NginxBalancer",
    "Notifications",
    "PathError",
    "Port",
    "PositiveSeconds",
    "RunOn",
    "SSHEndpoint",
    "Seconds",
    "SecretSource",
    "Server",
    "Step",
    "Text",
    "Verify",
    "WebURL",
    "Webhook",
]
