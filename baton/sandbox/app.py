"""The sandbox's web application: answers every GET with the release version it runs.

Stdlib only, so the same file runs as ``python3 -m baton.sandbox.app`` or as a standalone
script copied into a sandbox server's release directory (baton may be installed for root only).

A server's home looks like this (``migrate`` records a run in the shared SQLite file)::

    ~/releases/<version>/app.py   the release (this file) and its VERSION file
    ~/current -> releases/<v>     the release that runs after the next restart
    ~/app.pid, ~/app.log          the running app

``serve`` reads ``current/VERSION`` once, binds, and then boots for ``--startup-delay`` seconds
(1 s by default), answering ``503 starting`` meanwhile, as an application warming up behind its
web server does: an app restarted while still in rotation fails requests for that long. (It
answers rather than refusing connections because HAProxy retries a refused connection, up to
3 times a second apart, which would hide the restart.) ``restart`` stops the running app and
starts a new one detached (its own session, no inherited pipes) so it outlives the SSH session.
A release with a ``BROKEN`` file beside its VERSION answers 500 to every request but
``/health``: a bad release whose health check passes, for canary tests.
"""

from __future__ import annotations

import argparse
import http.server
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

STOP_DEADLINE = 5.0
MIGRATION_TABLE = (
    "CREATE TABLE IF NOT EXISTS migrations (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " version TEXT NOT NULL, server TEXT NOT NULL, at TEXT DEFAULT CURRENT_TIMESTAMP)"
)


class _Handler(http.server.BaseHTTPRequestHandler):
    version_text = "unknown"
    ready_at = 0.0
    broken = False

    def do_GET(self) -> None:
        if time.monotonic() < self.ready_at:
            self._answer(503, "starting")
        elif self.broken and self.path != "/health":
            self._answer(500, "broken")
        else:
            self._answer(200, self.version_text)

    def _answer(self, status: int, text: str) -> None:
        body = f"{text}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Release", self.version_text)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep app.log small: log nothing per request."""


def serve(root: Path, address: str, port: int, startup_delay: float) -> None:
    """Run the app in the foreground until SIGTERM."""
    version = (root / "current" / "VERSION").read_text().strip()
    (root / "app.pid").write_text(f"{os.getpid()}\n")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    ready_at = time.monotonic() + startup_delay
    broken = (root / "current" / "BROKEN").exists()
    attributes = {"version_text": version, "ready_at": ready_at, "broken": broken}
    handler = type("Handler", (_Handler,), attributes)
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    with http.server.ThreadingHTTPServer((address, port), handler) as server:
        print(f"serving {version} on {address}:{port}", flush=True)
        server.serve_forever()


def stop(root: Path) -> bool:
    """Stop the app recorded in ``root/app.pid``; True when one was running."""
    pid = read_pid(root)
    if pid is None or not is_app(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_DEADLINE
    while is_app(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if is_app(pid):
        os.kill(pid, signal.SIGKILL)
    return True


def start(root: Path, address: str, port: int, startup_delay: float) -> int:
    """Start the app of ``root/current`` detached; return its pid."""
    script = (root / "current" / "app.py").resolve()
    command = [sys.executable, str(script), "serve", "--root", str(root), "--address", address]
    command += ["--port", str(port), "--startup-delay", str(startup_delay)]
    with open(root / "app.log", "ab") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            cwd=root,
        )
    (root / "app.pid").write_text(f"{process.pid}\n")
    return process.pid


def migrate(database: Path, version: str, server: str) -> None:
    """The release's migration: record that it ran, for whom, in the shared database."""
    with sqlite3.connect(database, timeout=10) as db:
        db.execute(MIGRATION_TABLE)
        db.execute("INSERT INTO migrations (version, server) VALUES (?, ?)", (version, server))
    db.close()
    print(f"migrated {database} to {version}")


def read_pid(root: Path) -> int | None:
    try:
        return int((root / "app.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def is_app(pid: int) -> bool:
    """Whether ``pid`` is a live (not zombie) sandbox app, so a reused pid is never killed."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return b"app.py\0serve" in cmdline and "State:\tZ" not in status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["serve", "start", "stop", "restart", "migrate"])
    parser.add_argument("--root", type=Path, default=Path.home(), help="the server's home")
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--startup-delay", type=float, default=1.0)
    parser.add_argument("--database", type=Path, help="migrate: the shared SQLite file")
    parser.add_argument("--version", help="migrate: the release being deployed")
    parser.add_argument("--server", help="migrate: the server running the migration")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    root = args.root.absolute()
    if args.command == "migrate":
        migrate(args.database, args.version, args.server)
        return 0
    if args.command == "serve":
        serve(root, args.address, args.port, args.startup_delay)
        return 0
    if args.command in ("stop", "restart"):
        stop(root)
    if args.command in ("start", "restart"):
        print(f"started app pid {start(root, args.address, args.port, args.startup_delay)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
