"""A throw-away PostgreSQL 15 cluster for the tests: initdb and pg_ctl as the ``postgres``
user, in a temporary directory, listening on a free loopback port; stopped and removed after.

Each test gets its own database in it (``CREATE DATABASE`` takes a few milliseconds).
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from baton.sandbox.processes import free_port

BIN = Path("/usr/lib/postgresql/15/bin")
USER = "postgres"
_names = itertools.count(1)


@dataclass(frozen=True)
class Cluster:
    directory: Path
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database's URL."""
        import psycopg

        name = f"baton_test_{next(_names)}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        """What a crash or ``pg_ctl stop -m immediate`` does: every connection drops at once."""
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate",
                     "-w", "stop")  # fmt: skip

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.directory} -c fsync=off"
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(self.directory / "data"), "-o", options,
                     "-l", str(self.directory / "log"), "-w", "start")  # fmt: skip


def _as_postgres(*command: str) -> None:
    subprocess.run(["runuser", "-u", USER, "--", *command], check=True, capture_output=True)


@contextlib.contextmanager
def running_cluster() -> Iterator[Cluster]:
    directory = Path(tempfile.mkdtemp(prefix="baton-pg-", dir="/tmp"))
    shutil.chown(directory, USER, USER)
    cluster = Cluster(directory, free_port())
    try:
        _as_postgres(str(BIN / "initdb"), "-D", str(directory / "data"), "-A", "trust", "-U",
                     USER, "--no-sync")  # fmt: skip
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)
