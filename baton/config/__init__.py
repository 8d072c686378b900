"""Configuration: the manifest file parsed into frozen, validated objects.

Each name is imported when first asked for, so that importing one section (a kind of load
balancer's module imports :mod:`baton.config.balancing`, and ``baton --help`` lists the kinds'
``init`` flags) does not load the file reader, the cache or the other sections.
"""

from typing import TYPE_CHECKING, Any

__all__ = [
    "HAProxyBalancer",
    "HealthCheck",
    "LoadBalancer",
    "Manifest",
    "Server",
    "Step",
    "Verify",
    "load_manifest",
    "parse_manifest",
]

if TYPE_CHECKING:
    from baton.balancers.haproxy import HAProxyBalancer
    from baton.config.files import load_manifest
    from baton.config.loader import parse_manifest
    from baton.config.model import (
        HealthCheck,
        LoadBalancer,
        Manifest,
        Server,
        Step,
        Verify,
    )


def __getattr__(name: str) -> Any:
    """``load_manifest`` from the file reader, ``parse_manifest`` from the loader (with YAML),
    every other name from :mod:`baton.config.model`."""
    if name == "load_manifest":
        from baton.config.files import load_manifest

        return load_manifest
    if name == "parse_manifest":
        from baton.config.loader import parse_manifest

        return parse_manifest
    if name in __all__:
        from baton.config import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
