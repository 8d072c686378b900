"""baton: deploy a web application to a fleet of servers behind load balancers.

Serial deploys take one server at a time out of every load balancer, deploy to it and put it
back; parallel deploys run the steps on every server at once and never touch the load balancers.
"""

from baton._exceptions import (
    BatonError,
    ConnectionError_,
    DeployFailed,
    HealthCheckError,
    InputError,
    LoadBalancerError,
    LockError,
    ManifestError,
    SettingError,
    StateError,
    StateWriteError,
    StepError,
    VerificationError,
)

__all__ = [
    "BatonError",
    "ConnectionError_",
    "DeployFailed",
    "HealthCheckError",
    "InputError",
    "LoadBalancerError",
    "LockError",
    "ManifestError",
    "SettingError",
    "StateError",
    "StateWriteError",
    "StepError",
    "VerificationError",
]
