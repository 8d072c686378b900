"""What the dashboard's pages and API share: the store, the manifests, the drivers, the launcher.

The few things the web can change go through here, and each is one library call: a setting
through :mod:`baton.settings`, a plan through :func:`baton.execution.prepare`, a deploy
through :func:`baton.execution.run_deploy` (via the launcher).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from baton._exceptions import InputError
from baton.clock import SYSTEM_CLOCK, Clock
from baton.config import Manifest, load_manifest
from baton.execution import Drivers, prepare
from baton.execution.recovery import Recovered
from baton.execution.runner import recover_stranded
from baton.planning import DeployOptions, Plan, Strategy, release_version
from baton.settings import Ramp, parse_ramp, spec_for
from baton.state import DeployRecord, Store
from baton.web.hook_signing import Deliveries
from baton.web.launcher import Launcher
from baton.web.pending import PendingDeploys

STRATEGIES = {s.value: s for s in Strategy}


class NotFound(InputError):
    """An application or deploy the dashboard does not know."""


class NotRunning(InputError):
    """A request to cancel a deploy that is not running here."""


@dataclass
class Dashboard:
    store: Store
    manifests: dict[str, Manifest]
    launcher: Launcher
    injected_drivers: Drivers | None = None
    pending: PendingDeploys = field(init=False)
    """Deploys the webhook queued while their application was busy."""
    deliveries: Deliveries = field(init=False)
    """What the webhook already received: a repeat is refused."""
    clock: Clock = field(init=False)
    """The time the webhook and its queue keep: the fleet's."""

    def __post_init__(self) -> None:
        self.clock = self.injected_drivers.clock if self.injected_drivers else SYSTEM_CLOCK
        self.pending = PendingDeploys(self.store, self._start_queued, self.clock)
        self.deliveries = Deliveries(self.clock)

    async def _start_queued(self, application: str, version: str) -> int:
        return await self.deploy(application, DeployOptions(version))

    @classmethod
    def open(
        cls,
        store_dir: Path | str,
        manifests: Iterable[Manifest | Path | str],
        drivers: Drivers | None,
    ) -> Dashboard:
        store = Store(store_dir)
        loaded = [m if isinstance(m, Manifest) else load_manifest(Path(m)) for m in manifests]
        by_name: dict[str, Manifest] = {}
        for manifest in loaded:
            if manifest.application in by_name:
                raise InputError(f"{manifest.source}: application {manifest.application!r} twice")
            by_name[manifest.application] = manifest
        return cls(store, by_name, Launcher(store, drivers), drivers)

    @property
    def drivers(self) -> Drivers:
        return self.injected_drivers or Drivers.real()

    def manifest(self, application: str) -> Manifest:
        try:
            return self.manifests[application]
        except KeyError:
            known = ", ".join(self.manifests) or "none"
            raise NotFound(f"no application {application!r}; known: {known}") from None

    def deploy_record(self, deploy_id: int) -> DeployRecord:
        record = self.store.deploy(deploy_id)
        if record is None:
            raise NotFound(f"no deploy #{deploy_id}")
        return record

    def set_setting(self, application: str, key: str, value: str) -> tuple[str, str]:
        """Validate and store one setting, exactly as ``baton settings set`` does."""
        self.manifest(application)
        spec = spec_for(key)
        normalised = spec.normalise(value)
        self.store.set_setting(application, spec.key, normalised)
        return spec.key, normalised

    def plan(
        self, application: str, options: DeployOptions, overrides: dict[str, str] | None = None
    ) -> Plan:
        return prepare(self.manifest(application), self.store, options, overrides)

    async def recover(self, application: str) -> list[Recovered]:
        """What ``baton recover`` does: put back what an unfinished deploy left out."""
        return await recover_stranded(self.manifest(application), self.store, drivers=self.drivers)

    def only_changes(self, application: str, options: DeployOptions) -> DeployOptions:
        """``options`` without the choices the settings would make anyway: a form that shows
        every choice records as one-off only what the user changed."""
        usual = self.plan(application, DeployOptions(options.version))
        strategy = None if options.strategy is usual.strategy else options.strategy
        migrations = options.run_migrations
        if migrations is not None and migrations == usual.run_migrations:
            migrations = None
        return DeployOptions(options.version, strategy, migrations, options.batch)

    def cancel(self, deploy_id: int) -> None:
        """Interrupt a running deploy started from this dashboard."""
        record = self.deploy_record(deploy_id)
        if record.status != "running":
            raise NotRunning(f"deploy #{deploy_id} is not running: it {record.status}")
        if not self.launcher.cancel(deploy_id):
            holder = self.store.lock_holder(record.application)
            where = holder.describe() if holder else "another process"
            raise NotRunning(
                f"deploy #{deploy_id} was not started by this dashboard ({where}); "
                "interrupt it where it runs (Ctrl-C, or SIGTERM to its pid)"
            )

    async def deploy(self, application: str, options: DeployOptions) -> int:
        """Start a deploy in the background; the deploy id once it is recorded."""
        return await self.launcher.start(self.plan(application, options))


def deploy_options(
    version: str | None,
    strategy: str | None,
    run_migrations: bool | None,
    batch: str | None = None,
) -> DeployOptions:
    """One-off options from a form or an API call; blanks mean "use the setting"."""
    return DeployOptions(
        release_version(version), parse_strategy(strategy), run_migrations, parse_batch(batch)
    )


def parse_batch(text: str | None) -> Ramp | None:
    """A form's or a request's batch size: "2", "25%" or a ramp "1,25%,50%"; blank: the setting."""
    if not text or not text.strip():
        return None
    try:
        return parse_ramp(text)
    except ValueError as exc:
        raise InputError(f"batch {text!r}: {exc}") from None


def parse_strategy(text: str | None) -> Strategy | None:
    if not text:
        return None
    try:
        return STRATEGIES[text]
    except KeyError:
        raise InputError(f"strategy {text!r}: expected serial or parallel") from None


def parse_migrations(text: str | None) -> bool | None:
    """A form's "run" / "skip" / blank (use the setting)."""
    choices = {"": None, "run": True, "skip": False}
    if (text or "") not in choices:
        raise InputError(f"migrations {text!r}: expected run or skip")
    return choices[text or ""]
