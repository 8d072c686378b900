"""A real nginx (Debian's) in front of sandbox servers, for the nginx driver.

It runs in the foreground (``daemon off``) with its own prefix, pid file and logs in one
directory, listens on loopback only, and includes ``upstream.conf``, the file the driver
rewrites. ``proxy_next_upstream off``: a request sent to a server that is restarting fails
where tests and the demo can see it, instead of being retried quietly on another.
"""

from __future__ import annotations

import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from baton.drivers.http import get
from baton.sandbox.processes import Started, blocking, free_port

NGINX = "/usr/sbin/nginx"


@dataclass
class NginxProcess(Started):
    """A running nginx; ``stop()`` is a fast shutdown, which ends its workers too."""

    directory: Path
    frontend_url: str
    upstream: str
    process: subprocess.Popen[bytes] = field(repr=False)

    @property
    def upstream_file(self) -> Path:
        return self.directory / "upstream.conf"

    @property
    def config(self) -> Path:
        return self.directory / "nginx.conf"

    @property
    def pid_file(self) -> Path:
        return self.directory / "nginx.pid"

    @property
    def command(self) -> str:
        """nginx with this instance's prefix and configuration, as the driver's ``command``."""
        return f"{NGINX} -p {shlex.quote(str(self.directory))} -c {shlex.quote(str(self.config))}"


def start_nginx(
    directory: Path, upstream: str, members: list[str], frontend_port: int | None = None
) -> NginxProcess:
    """Write the configuration into ``directory``, start nginx, wait until it answers.

    ``members`` are "address:port" of the servers; the frontend listens on 127.0.0.1.
    """
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "logs").mkdir(exist_ok=True)
    port = frontend_port or free_port()
    servers = "".join(f"    server {member};\n" for member in members)
    (directory / "upstream.conf").write_text(f"upstream {upstream} {{\n{servers}}}\n")
    (directory / "nginx.conf").write_text(_config(directory, upstream, port))
    log = (directory / "nginx.out").open("wb")
    process = subprocess.Popen(
        [NGINX, "-p", str(directory), "-c", str(directory / "nginx.conf")],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    log.close()
    nginx = NginxProcess(directory, f"http://127.0.0.1:{port}/", upstream, process)
    try:
        _wait_until_listening(nginx)
    except BaseException:
        nginx.stop()
        raise
    return nginx


def _config(directory: Path, upstream: str, port: int) -> str:
    return f"""daemon off;
master_process on;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {directory}/tmp-body;
    proxy_temp_path {directory}/tmp-proxy;
    fastcgi_temp_path {directory}/tmp-fastcgi;
    uwsgi_temp_path {directory}/tmp-uwsgi;
    scgi_temp_path {directory}/tmp-scgi;
    include {directory}/upstream.conf;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://{upstream};
            proxy_next_upstream off;
            proxy_connect_timeout 2s;
        }}
    }}
}}
"""


def _wait_until_listening(nginx: NginxProcess, limit: float = 10) -> None:
    deadline = time.monotonic() + limit
    while not nginx.pid_file.exists() or not _answers(nginx.frontend_url):
        if nginx.process.poll() is not None:
            output = (nginx.directory / "nginx.out").read_text(errors="replace").strip()
            raise RuntimeError(f"nginx exited: {output}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"nginx at {nginx.frontend_url} silent after {limit}s")
        time.sleep(0.05)


def _answers(url: str) -> bool:
    """Whether nginx answers at all (a 502 while no server is up counts)."""
    try:
        blocking(get(url, 1.0, body=False))
    except (OSError, TimeoutError):
        return False
    return True
