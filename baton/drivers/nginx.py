"""Open-source nginx through one upstream block in a file that nginx includes.

nginx has no runtime API, so a change is an edit of that file followed by a graceful reload:
a server is taken out by marking its ``server`` line ``down`` (never by deleting it) and put
back by removing the mark. The new file is written beside the old one and renamed over it;
``nginx -t`` validates it before the reload, and when the test fails the previous file is put
back and the change fails with nginx's own words. The new file is made by ``mktemp`` (a name
nobody can predict, never through a link), in a directory only its owner may write to, and
filled from standard input, so a file of any size fits. After a reload the old worker processes
finish their requests and exit: the driver waits (up to the balancer's timeout) until none of
them is left, which is nginx's way of saying the server has drained. Every change is read back
from the file.
"""

from __future__ import annotations

from baton.clock import SYSTEM_CLOCK, Clock, poll_until
from baton.config.model import NginxBalancer
from baton.drivers import commands
from baton.drivers.hosted import BalancerHost, last_words
from baton.drivers.loadbalancer import LoadBalancerDriver, Membership
from baton.drivers.nginx_upstream import Upstream, parse_upstream

DRAIN_POLL = 0.1


class NginxDriver(LoadBalancerDriver):
    """Marks members of one upstream ``down`` and reloads nginx gracefully."""

    def __init__(self, lb: NginxBalancer, clock: Clock = SYSTEM_CLOCK) -> None:
        self.lb = lb
        self.name = lb.name
        self.clock = clock
        label = f"nginx upstream {lb.upstream} in {lb.file}"
        self.host = BalancerHost(lb, label, sudo_in_commands=True)
        self._warnings: list[str] = []

    def __repr__(self) -> str:
        return f"NginxDriver({self.name!r}, upstream={self.lb.upstream!r}, on={self.host.where})"

    async def preflight(self) -> list[str]:
        """nginx's configuration includes the file baton manages, and nginx runs with the pid
        file named (without its workers, a drain could not be observed)."""
        result = await self.host.run(commands.nginx_includes_file(self.lb))
        if not result.ok:
            raise self.host.error(
                f"`{self.lb.command} -T` does not show {self.lb.file}: include it from "
                "nginx's configuration (or nginx cannot be run there)"
            )
        if not await self._workers():
            raise self.host.error(
                f"no nginx worker runs under the master in {self.lb.pid_file}: is nginx "
                "running, with that pid_file?"
            )
        return []

    async def remove(self, server: str) -> None:
        """Mark ``server`` down, reload, and wait for the old workers to finish its requests."""
        await self._mark(server, down=True)

    async def add(self, server: str) -> None:
        """Remove the ``down`` mark and reload."""
        await self._mark(server, down=False)

    async def membership(self) -> dict[str, Membership]:
        upstream = await self._upstream()
        return {
            self.lb.server_for(member): (
                Membership.OUT_OF_ROTATION if down else Membership.IN_ROTATION
            )
            for member, down in upstream.down.items()
            if not self.lb.poses_as_a_server(member)
        }

    def take_warnings(self) -> list[str]:
        warnings, self._warnings = self._warnings, []
        return warnings

    async def close(self) -> None:
        await self.host.close()

    async def _mark(self, server: str, *, down: bool) -> None:
        member = self.lb.member_name(server)
        upstream = await self._upstream()
        if member not in upstream.down:
            raise self.host.error(f"{server} ({member}) is not a server of the upstream")
        if upstream.down[member] != down:
            workers = await self._workers()
            await self._replace(upstream.text, upstream.with_mark(member, down))
            await self._reload(upstream.text)
            await self._wait_for_exit(workers)
        readback = await self._upstream()
        if readback.down.get(member) != down:
            state = "not marked down" if down else "still marked down"
            raise self.host.error(f"{server} ({member}) is {state} in {self.lb.file}")

    async def _upstream(self) -> Upstream:
        text = await self.host.check(commands.nginx_read(self.lb), "reading")
        upstream = parse_upstream(text, self.lb.upstream)
        if upstream is None:
            raise self.host.error(f"{self.lb.file} has no upstream {self.lb.upstream}")
        return upstream

    async def _replace(self, old: str, new: str) -> None:
        """Write ``new`` atomically; when ``nginx -t`` rejects it, put ``old`` back and fail."""
        await self._write(new)
        test = await self.host.run(commands.nginx_test(self.lb))
        if not test.ok:
            await self._write(old)
            raise self.host.error(f"`nginx -t` rejected the change: {last_words(test)}")

    async def _reload(self, old: str) -> None:
        """Reload gracefully; when nginx refuses, put ``old`` back so the file tells the truth."""
        result = await self.host.run(commands.nginx_reload(self.lb))
        if not result.ok:
            await self._write(old)
            raise self.host.error(
                f"the reload `{self.lb.reload_command}` failed (exit {result.exit_status}), the "
                f"previous file is back: {last_words(result)}"
            )

    async def _write(self, text: str) -> None:
        """Fill a fresh temporary file beside the file with ``text``, then rename it over."""
        await self._refuse_a_shared_directory()
        what = f"writing {self.lb.file}"
        made = await self.host.check(commands.nginx_temporary_file(self.lb), what)
        temporary = (made.strip().splitlines() or [""])[-1]
        if not temporary.startswith(f"{self.lb.file}.baton-"):
            raise self.host.error(f"{what}: mktemp printed {made.strip()!r}, not a file name")
        try:
            await self.host.check(commands.nginx_fill(self.lb, temporary), what, input=text)
            await self.host.check(commands.nginx_install(self.lb, temporary), what)
        except BaseException:
            await self.host.run(commands.nginx_discard(self.lb, temporary))
            raise

    async def _refuse_a_shared_directory(self) -> None:
        """Whoever can write to the directory can swap the file (or the new one) under baton."""
        directory = self.lb.file.parent
        what = f"reading the mode of {directory}"
        mode = (await self.host.check(commands.nginx_directory_mode(self.lb), what)).strip()
        if not mode or set(mode) - set("01234567"):
            raise self.host.error(f"{what}: stat printed {mode!r}")
        if int(mode, 8) & 0o022:
            raise self.host.error(
                f"refusing to write in {directory}: others can write to it (mode {mode}), "
                "so they could replace the file; make it writable by its owner only"
            )

    async def _workers(self) -> set[int]:
        """The worker processes of nginx's master now (empty when nginx is not running)."""
        result = await self.host.run(commands.nginx_workers(self.lb))
        return {int(word) for word in result.output.split() if word.isdigit()}

    async def _wait_for_exit(self, workers: set[int]) -> None:
        """Wait (up to lb.timeout) until none of ``workers``, the old generation, is alive;
        when some still are, warn or fail as ``on_drain_timeout`` says."""
        old = set(workers)

        async def still_running() -> set[int]:
            old.intersection_update(await self._workers())
            return old

        if old:
            await poll_until(
                still_running,
                lambda running: not running,
                timeout=self.lb.timeout,
                interval=DRAIN_POLL,
                clock=self.clock,
            )
        if old:
            self._drain_cut_short(len(old))

    def _drain_cut_short(self, draining: int) -> None:
        message = (
            f"stopped waiting for the old nginx workers after timeout {self.lb.timeout:g}s "
            f"with {draining} still draining: requests they hold may be cut; raise `timeout` "
            "on this balancer to wait longer"
        )
        if self.lb.on_drain_timeout == "fail":
            raise self.host.error(f"{message} (on_drain_timeout: fail)")
        self._warnings.append(str(self.host.error(message)))
