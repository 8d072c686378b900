"""One server's checks for ``baton check``: its connection, its step commands, its membership
in each load balancer, and its health check, each a :class:`Finding` with advice."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from baton.checking.findings import Finding, Status
from baton.config import Manifest, Server
from baton.config.templates import render, values_for
from baton.drivers import ShellCommand, Transport
from baton.execution.connections import Attempt
from baton.execution.environment import StepEnvironment
from baton.execution.health import check_once, check_url

COMMAND_TIMEOUT = 10.0
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SHELL_SYNTAX = {"if", "for", "while", "until", "case", "!", "{", "(", "[[", "function"}
_SSH_ADVICE = (
    ("connection refused", "start sshd on {address} (systemctl start ssh), or correct "
     "address/port in the manifest"),
    ("host key not trusted", "check the server's fingerprint, then add its key: "
     "ssh-keyscan -p {port} {address} >> {known_hosts}"),
    ("authentication", "check user and key_file: the key's public half must be in the "
     "user's ~/.ssh/authorized_keys on the server"),
    ("timed out", "check the address and that nothing blocks port {port}; raise "
     "connect_timeout for a slow link"),
)  # fmt: skip


@dataclass(frozen=True)
class CheckedServer:
    """A server as its steps and health check are looked at: over its connection (None when
    it could not connect), with the step environment, for the version a deploy would bring."""

    manifest: Manifest
    server: Server
    transport: Transport | None
    environment: StepEnvironment
    version: str

    def values(self) -> dict[str, object]:
        """What the step and health check templates are rendered with on this server."""
        return values_for(self.manifest.application, self.server, self.version)


def ssh_finding(server: Server, attempt: Attempt) -> Finding:
    """How the connection went: how long it took, and the host key."""
    if attempt.error is not None:
        error = str(attempt.error)
        return Finding(server.name, "ssh", Status.PROBLEM, error, _ssh_advice(server, error))
    seconds = attempt.seconds
    if server.transport == "local":
        detail = "local transport: runs on this machine"
        return Finding(server.name, "ssh", Status.OK, detail, seconds=seconds)
    took = f"connected in {seconds:.2f}s as {server.user}@{server.address}:{server.port}"
    if not server.host_key_checking:
        detail = f"{took}; host key NOT checked"
        advice = "add its key to known_hosts and remove host_key_checking: false"
        return Finding(server.name, "ssh", Status.WARNING, detail, advice, seconds)
    detail = f"{took}; host key found in {server.known_hosts or '~/.ssh/known_hosts'}"
    return Finding(server.name, "ssh", Status.OK, detail, seconds=seconds)


def _ssh_advice(server: Server, error: str) -> str:
    known = str(server.known_hosts or "~/.ssh/known_hosts")
    for marker, advice in _SSH_ADVICE:
        if marker in error:
            return advice.format(address=server.address, port=server.port, known_hosts=known)
    return "check the server's address, port, user and key in the manifest"


async def steps_finding(checked: CheckedServer) -> Finding:
    """Each step's first command exists on the server (``command -v``)."""
    server, transport, environment = checked.server, checked.transport, checked.environment
    if transport is None:
        return Finding(server.name, "steps", Status.SKIPPED, "needs the SSH connection")
    commands = first_commands(checked.manifest, server, checked.version)
    if not commands:
        return Finding(server.name, "steps", Status.OK, "no plain first command to look for")
    quoted = " ".join(shlex.quote(c) for c in commands)
    script = f'for c in {quoted}; do command -v "$c" >/dev/null 2>&1 || printf "%s\\n" "$c"; done'
    result = await transport.run(ShellCommand(script, COMMAND_TIMEOUT, environment.variables))
    missing = result.output.split()
    if not result.ok:
        detail = f"`command -v` did not run: {environment.mask(result.output.strip())}"
        return Finding(server.name, "steps", Status.PROBLEM, detail, "try logging in by hand")
    if missing:
        return Finding(
            server.name,
            "steps",
            Status.PROBLEM,
            f"not found on {server.name}: {', '.join(missing)}",
            "install it on the server, or correct the step's command (PATH is the login "
            "user's; deploy.environment can set it)",
        )
    return Finding(server.name, "steps", Status.OK, f"found: {', '.join(commands)}")


def first_commands(manifest: Manifest, server: Server, version: str) -> list[str]:
    """The first command of each step, as the server's shell would look it up."""
    values = values_for(manifest.application, server, version)
    commands: list[str] = []
    for step in manifest.deploy.steps:
        command = _first_word(render(step.run, values))
        if command is not None and command not in commands:
            commands.append(command)
    return commands


def _first_word(command: str) -> str | None:
    """The command a shell line starts with, past ``NAME=value`` assignments; None when it
    starts with shell syntax (a subshell, an if, a loop) or cannot be split."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError:
        return None
    for word in words:
        if not _ASSIGNMENT.match(word):
            return None if word in _SHELL_SYNTAX or word[0] in "(){;&|<>" else word
    return None


async def health_finding(checked: CheckedServer) -> Finding:
    """One attempt of the health check, now."""
    server, transport, environment = checked.server, checked.transport, checked.environment
    check = checked.manifest.deploy.health_check
    if check is None:
        return Finding(server.name, "health", Status.SKIPPED, "no health check in the manifest")
    if check.command is not None and transport is None:
        return Finding(server.name, "health", Status.SKIPPED, "needs the SSH connection")
    values = checked.values()
    if transport is None:
        passed, detail = await check_url(check, values)
    else:
        passed, detail = await check_once(check, values, transport, environment.variables)
    detail = environment.mask(detail)
    if passed:
        return Finding(server.name, "health", Status.OK, detail)
    advice = (
        f"check the URL (address, port, path) and that the application runs on {server.name}"
        if check.url is not None
        else f"run the command on {server.name} by hand to see why it fails"
    )
    advice += f"; a deploy would halt at this server after {check.deadline:g}s"
    return Finding(server.name, "health", Status.PROBLEM, detail, advice)
