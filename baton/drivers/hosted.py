"""Commands a load balancer driver runs on the balancer's host: this machine or one over SSH.

The nginx and command drivers share this: the connection is opened on first use and kept for
the driver's life, every command is bounded by the balancer's timeout, and ``sudo: true``
runs it through ``sudo -n`` (never a password prompt): the whole shell line for the command
balancer, or (``sudo_in_commands``) as the driver's command lines say, program by program.
"""

from __future__ import annotations

from baton._exceptions import BatonError, LoadBalancerError
from baton.config.model import HostedBalancer, Server
from baton.drivers.commands import on_balancer_host
from baton.drivers.transport import CommandResult, ShellCommand, Transport


class BalancerHost:
    """Runs shell commands where ``lb`` says its balancer lives."""

    def __init__(self, lb: HostedBalancer, label: str, *, sudo_in_commands: bool = False) -> None:
        self.lb = lb
        self.label = label
        self.sudo_in_commands = sudo_in_commands
        self._transport: Transport | None = None

    @property
    def where(self) -> str:
        host = self.lb.host
        return "local" if host == "local" else f"{host.user}@{host.address}:{host.port}"

    async def run(self, command: str, input: str = "") -> CommandResult:
        """Run ``command`` (through sudo when asked) with ``input`` on its stdin; an unreachable
        host is a LoadBalancerError."""
        transport = await self._opened()
        line = command if self.sudo_in_commands else on_balancer_host(self.lb, command)
        return await transport.run(ShellCommand(line, self.lb.timeout, input=input))

    async def check(self, command: str, what: str, input: str = "") -> str:
        """Run ``command`` and return its output; fail with its last words when it fails."""
        result = await self.run(command, input)
        if result.timed_out:
            raise self.error(f"{what} got no answer within {self.lb.timeout:g}s")
        if not result.ok:
            raise self.error(f"{what} failed (exit {result.exit_status}): {last_words(result)}")
        return result.output

    async def close(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            await transport.close()

    def error(self, message: str) -> LoadBalancerError:
        return LoadBalancerError(f"load balancer {self.lb.name} ({self.label}): {message}")

    async def _opened(self) -> Transport:
        if self._transport is None:
            transport = _transport_for(self.lb)
            try:
                await transport.open()
            except BatonError as error:
                raise self.error(f"cannot reach its host {self.where}: {error}") from error
            self._transport = transport
        return self._transport


def _transport_for(lb: HostedBalancer) -> Transport:
    name = f"{lb.name}-host"
    if lb.host == "local":
        from baton.drivers.local import LocalTransport

        return LocalTransport(Server(name=name, address="localhost", transport="local"))
    from baton.drivers.ssh import SSHTransport

    return SSHTransport(lb.host.as_server(name))


def last_words(result: CommandResult, limit: int = 300) -> str:
    """A command's output as one line, cut to its last ``limit`` characters."""
    text = " ".join(result.output.split()) or "(no output)"
    return text if len(text) <= limit else "..." + text[-limit:]
