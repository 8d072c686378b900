"""Deploys started from the web: ``run_deploy`` as asyncio tasks in the server's event loop.

The caller waits only until the deploy is recorded (it then has an id to watch) or refused
(lock held, load balancer or server unreachable): the library raises, the caller answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from baton.execution import DeployReport, Drivers, run_deploy
from baton.execution.events import DeployStarted, Event
from baton.execution.rollback import roll_back_if_needed
from baton.planning import Plan
from baton.state import Store

log = logging.getLogger(__name__)


class Launcher:
    """Starts deploys in the background and keeps their tasks until they end."""

    def __init__(self, store: Store, drivers: Drivers | None) -> None:
        self._store = store
        self._drivers = drivers
        self._tasks: set[asyncio.Task[DeployReport]] = set()
        self._by_deploy: dict[int, asyncio.Task[DeployReport]] = {}

    async def start(self, plan: Plan) -> int:
        """Start ``plan``; return the deploy id once recorded, or raise why it was refused."""
        recorded: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def watch(event: Event) -> None:
            if isinstance(event, DeployStarted) and not recorded.done():
                recorded.set_result(event.deploy_id)

        task = asyncio.create_task(self._run(plan, watch))
        self._tasks.add(task)
        task.add_done_callback(self._forget)
        pending: list[asyncio.Future[Any]] = [recorded, task]
        await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        if recorded.done():
            self._by_deploy[recorded.result()] = task
            return recorded.result()
        recorded.cancel()
        task.result()  # raises why the deploy never started
        raise RuntimeError("the deploy ended without being recorded")

    async def _run(self, plan: Plan, watch: Callable[[Event], None]) -> DeployReport:
        """The deploy, then its automatic rollback if it failed and its plan asks for one."""
        report = await run_deploy(plan, self._store, drivers=self._drivers, sinks=[watch])
        await roll_back_if_needed(report, self._store, drivers=self._drivers)
        return report

    @property
    def running(self) -> int:
        return len(self._tasks)

    def cancel(self, deploy_id: int) -> bool:
        """Interrupt a deploy this server started, as Ctrl-C does on the command line: the
        load balancer change under way finishes, a server not yet changed goes back into
        rotation, and the deploy is recorded as cancelled. False if it is not running here."""
        task = self._by_deploy.get(deploy_id)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    async def stop(self) -> None:
        """Cancel deploys still running (the server is shutting down); each records it."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    def _forget(self, task: asyncio.Task[DeployReport]) -> None:
        self._tasks.discard(task)
        for deploy_id in [d for d, t in self._by_deploy.items() if t is task]:
            del self._by_deploy[deploy_id]
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.warning("deploy task ended with an error: %s", error)
