"""The sandbox application: its release artifact, shared database, and ``baton.yml``.

A release is ``DIR/shared/app.tar.gz`` (the stdlib-only :mod:`baton.sandbox.app`) plus a
``VERSION`` file written by the deploy. The migration appends one row per run to
``DIR/shared/migrations.db``, a SQLite file every server can write, so "the migration ran
exactly once for version V" is a query away (:func:`migrations`).
"""

from __future__ import annotations

import io
import os
import pwd
import shlex
import sqlite3
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from baton.sandbox import app

if TYPE_CHECKING:
    from baton.sandbox.fleet import Sandbox
    from baton.sandbox.sshd import SandboxServer

APPLICATION = "sandbox"
APP_PORT = 8000
BACKEND = "app"
PYTHON = "/usr/bin/python3"


def shared(directory: Path) -> Path:
    return directory / "shared"


def artifact(directory: Path) -> Path:
    return shared(directory) / "app.tar.gz"


def database(directory: Path) -> Path:
    return shared(directory) / "migrations.db"


def prepare_shared(directory: Path) -> None:
    """Create the release artifact and the migrations database every sandbox user can use."""
    shared(directory).mkdir(parents=True, exist_ok=True)
    shared(directory).chmod(0o1777)  # SQLite writes its journal next to the database
    source = Path(app.__file__).read_bytes()
    with tarfile.open(artifact(directory), "w:gz") as archive:
        info = tarfile.TarInfo("app.py")
        info.size, info.mode = len(source), 0o755
        archive.addfile(info, io.BytesIO(source))
    artifact(directory).chmod(0o644)
    with sqlite3.connect(database(directory)) as db:
        db.execute(app.MIGRATION_TABLE)
    db.close()
    database(directory).chmod(0o666)


def install_initial(directory: Path, server: SandboxServer, version: str) -> None:
    """Unpack ``version`` into the server's home and point ``current`` at it, as its user."""
    release = server.home / "releases" / version
    release.mkdir(parents=True, exist_ok=True)
    # Our own one-file archive, read member by member: Debian 12's Python 3.11.2 predates
    # extractall(filter=...), and later Pythons warn without it.
    with tarfile.open(artifact(directory)) as archive:
        member = archive.extractfile("app.py")
        assert member is not None
        (release / "app.py").write_bytes(member.read())
    (release / "app.py").chmod(0o755)
    (release / "VERSION").write_text(f"{version}\n")
    current = server.home / "current"
    current.unlink(missing_ok=True)
    current.symlink_to(Path("releases") / version)
    _chown_tree(server.home, server.user)


def _chown_tree(top: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(top):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.chown(name, entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def migrations(directory: Path) -> list[tuple[str, str]]:
    """Every migration run so far, oldest first: (version, server)."""
    with sqlite3.connect(database(directory)) as db:
        rows = db.execute("SELECT version, server FROM migrations ORDER BY id").fetchall()
    db.close()
    return [(str(v), str(s)) for v, s in rows]


def steps(directory: Path) -> list[dict[str, Any]]:
    """The deploy steps, run in each server's home by its own user."""
    tarball, db = _literal(artifact(directory)), _literal(database(directory))
    release = "releases/{version}"
    return [
        {"name": "fetch", "timeout": 30,
         "run": f"mkdir -p {release} && tar -xzf {tarball} -C {release}"
                f" && echo {{version}} > {release}/VERSION"},
        {"name": "migrate", "migration": True, "timeout": 30,
         "run": f"{PYTHON} {release}/app.py migrate --database {db}"
                " --version {version} --server {server}"},
        {"name": "restart", "timeout": 30,
         "run": f"ln -sfn {release} current && {PYTHON} current/app.py restart"
                f" --address {{address}} --port {APP_PORT}"},
    ]  # fmt: skip


def _literal(path: Path) -> str:
    """A path for a step's command: shell-quoted, braces doubled for the template."""
    return shlex.quote(str(path)).replace("{", "{{").replace("}", "}}")


def manifest_data(sandbox: Sandbox) -> dict[str, Any]:
    """The manifest of the sandbox application, as YAML-ready data."""
    ssh = sandbox.directory / "ssh"
    servers = [
        {"name": s.name, "address": s.address, "user": s.user,
         "key_file": str(ssh / "client_key"), "known_hosts": str(ssh / "known_hosts"),
         "connect_timeout": 5}
        for s in sandbox.servers
    ]  # fmt: skip
    from baton.sandbox.balancers import manifest_block

    balancer = manifest_block(sandbox)
    health = {"url": f"http://{{address}}:{APP_PORT}/", "timeout": 2, "deadline": 30,
              "interval": 0.2}  # fmt: skip
    return {
        "application": APPLICATION, "servers": servers, "load_balancers": [balancer],
        "deploy": {"steps": steps(sandbox.directory), "health_check": health},
    }  # fmt: skip


def write_manifest(sandbox: Sandbox, path: Path | None = None) -> Path:
    """Write the sandbox's manifest (to ``DIR/baton.yml`` unless ``path`` is given)."""
    path = path or sandbox.manifest
    header = "# Generated by `baton sandbox up`; rewritten by every `up`.\n"
    path.write_text(header + yaml.safe_dump(manifest_data(sandbox), sort_keys=False))
    return path
