"""A server that freezes mid-command without closing its connection (a hung machine, a cable
pulled): SSH keepalives notice it within seconds, instead of the step waiting out its timeout.
The sshd serving the session is stopped with SIGSTOP, so no FIN or RST ever arrives."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time

import pytest

from baton import UnreachableError
from baton.config import load_manifest
from baton.drivers import ShellCommand, ssh
from tests.reliability.conftest import Site, sessions_of

pytestmark = pytest.mark.integration


async def test_a_frozen_server_is_reported_unreachable_after_the_keepalives(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ssh, "KEEPALIVE_INTERVAL", 0.5)
    server = load_manifest(site.manifest()).servers[0]
    transport = ssh.SSHTransport(server)
    await transport.open()
    command = asyncio.create_task(transport.run(ShellCommand("sleep 30", timeout=30)))
    await asyncio.sleep(0.5)
    frozen = sessions_of(site.sandbox.servers[0].user)
    assert frozen
    try:
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(UnreachableError, match=r": Server not responding to keepalive$"):
            await command
        assert time.monotonic() - started < 0.5 * (ssh.KEEPALIVE_COUNT_MAX + 2)
    finally:
        for pid in frozen:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                os.kill(pid, signal.SIGCONT)
        await transport.close()
