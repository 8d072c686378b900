"""``baton init`` (a commented manifest to start from) and ``baton schema`` (its JSON Schema)."""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from baton._exceptions import InputError, ManifestError
from baton.cli.common import Commands, add_command

if TYPE_CHECKING:
    from baton.balancers import InitOffer

PLACEHOLDER_SERVER = "web1=192.0.2.11"
"""192.0.2.0/24 is reserved for documentation: it reaches nobody until replaced."""
PLACEHOLDER_STEPS = (
    "fetch=echo fetch release {version} - replace with your command",
    "restart=echo restart the application - replace with your command",
)
_SERVER = re.compile(
    r"^(?P<name>[^=]+)=(?:(?P<user>[^@]+)@)?(?P<host>\[[^\]]+\]|[^:]+)(?::(?P<port>\d+))?$"
)

EPILOG = """\
Writes a commented manifest (refusing to overwrite one) and its JSON Schema beside it, with a
`# yaml-language-server: $schema=...` line so editors complete and check it as you type. Keys
left out are written commented out, with their default. Then: `baton check -s APP`.

examples:
  baton init --app shop --server web1=10.0.0.11 --server web2=deploy@10.0.0.12:2222 \\
      --key ~/.ssh/deploy --haproxy /run/haproxy/admin.sock --backend app \\
      --health-url 'http://{address}:8000/healthz' --step 'restart=sudo systemctl restart shop'
  baton init --app shop --server web1=10.0.0.11 --nginx /etc/nginx/baton/shop.conf \\
      --upstream shop --app-port 8000
  baton init --app shop --server web1=10.0.0.11 --app-port 8000 \\
      --elbv2 arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef
"""


def register_init(commands: Commands) -> None:
    init = add_command(
        commands,
        "init",
        "write a commented baton.yml to start from",
        write_manifest,
        description="Write a commented manifest to start from, and its JSON Schema beside it.",
        epilog=EPILOG,
    )
    init.add_argument(
        "-f", "--file", type=Path, default=Path("baton.yml"), metavar="MANIFEST",
        help="where to write it (default: ./baton.yml)",
    )  # fmt: skip
    init.add_argument("--app", metavar="NAME", help="the application (default: the directory's)")
    _add_repeated(init, "--server", "NAME=[USER@]ADDRESS[:PORT]", "a server, in deploy order")
    init.add_argument("--user", help="the SSH user of every server (default: deploy)")
    init.add_argument("--key", metavar="FILE", help="the SSH private key of every server")
    init.add_argument(
        "--known-hosts", metavar="FILE", help="trusted host keys (default: ~/.ssh/known_hosts)"
    )
    for kind in _offers():
        for flag in kind.flags:
            init.add_argument(flag.name, metavar=flag.metavar, help=flag.help)
    init.add_argument(
        "--app-port", type=int, metavar="PORT",
        help="the port each server's application listens on, as nginx and the target group "
        "name it (default: 80 for nginx, the target group's port for elbv2)",
    )  # fmt: skip
    init.add_argument("--health-url", metavar="URL", help="e.g. 'http://{address}:8000/healthz'")
    _add_repeated(init, "--step", "NAME=COMMAND", "a deploy step, in order")


def _add_repeated(init: argparse.ArgumentParser, flag: str, metavar: str, each: str) -> None:
    """A flag given once for each of a list (servers, steps), in order."""
    help = f"{each} (repeat for more)"
    init.add_argument(flag, action="append", default=[], metavar=metavar, help=help)


def register_schema(commands: Commands) -> None:
    add_command(
        commands,
        "schema",
        "print the manifest's JSON Schema (for editors)",
        print_schema,
        description="Print the JSON Schema of baton.yml, generated from the models the manifest "
        "is loaded with: every key, its description and default. `baton init` saves it beside "
        "the manifest; refresh it after upgrading baton: baton schema > baton.schema.json",
    )


def print_schema(args: argparse.Namespace) -> int:
    from baton.config.schema import manifest_schema

    print(json.dumps(manifest_schema(), indent=2))
    return 0


def write_manifest(args: argparse.Namespace) -> int:
    from baton.config import parse_manifest
    from baton.config.scaffold import render_manifest
    from baton.config.schema import manifest_schema

    path: Path = args.file
    schema_path = path.with_name(f"{path.stem}.schema.json")
    data = starter_data(args, path)
    app = data["application"]
    header = [
        f"yaml-language-server: $schema=./{schema_path.name}",
        "",
        f"baton manifest for {app}, written by `baton init`. Keys commented out show their",
        f"default; `baton schema` describes every key. Try it with: baton check -s {app}",
    ]
    if placeholders := _placeholders(args):
        header.append(f"Replace the placeholders: {', '.join(placeholders)}.")
    text = render_manifest(data, header)
    try:
        parse_manifest(text, str(path))  # every key it writes is valid, or nothing is written
    except ManifestError as exc:
        raise InputError(f"init: {exc} (from the flags; nothing written)") from None
    _create(path, text)
    _write(schema_path, json.dumps(manifest_schema(), indent=2) + "\n")
    print(f"wrote {path} and {schema_path}; next: baton check -s {data['application']} -f {path}")
    return 0


def starter_data(args: argparse.Namespace, path: Path) -> dict[str, Any]:
    """The manifest the flags describe, with placeholders for what they leave out."""
    for kind in _offers():
        _check_together(kind, args)
    data: dict[str, Any] = {
        "application": args.app or _directory_name(path),
        "servers": [_server(text, args) for text in args.server or [PLACEHOLDER_SERVER]],
    }
    if balancers := _load_balancers(args, data["servers"]):
        data["load_balancers"] = balancers
    steps = [_pair("--step", text) for text in args.step or PLACEHOLDER_STEPS]
    data["deploy"] = {"steps": [{"name": name, "run": run} for name, run in steps]}
    if args.health_url is not None:
        data["deploy"]["health_check"] = {"url": args.health_url}
    return data


def _load_balancers(
    args: argparse.Namespace, servers: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The balancers the flags name, outermost first (the order a serial deploy leaves them):
    the kinds in the reverse of their registration."""
    starters = (kind.starter(args, servers) for kind in reversed(_offers()))
    return [balancer for balancer in starters if balancer is not None]


def _check_together(kind: InitOffer, args: argparse.Namespace) -> None:
    """Refuse one of a kind's two flags that go together without the other."""
    if kind.together is None:
        return
    first, second = kind.flags[:2]
    if (getattr(args, first.dest) is None) != (getattr(args, second.dest) is None):
        raise InputError(f"init: {first.name} and {second.name} go together ({kind.together})")


def _offers() -> list[InitOffer]:
    """What each registered kind of load balancer offers ``init``, in registration order."""
    from baton.balancers import kinds

    return [kind.init for kind in kinds().values() if kind.init is not None]


def _server(text: str, args: argparse.Namespace) -> dict[str, Any]:
    match = _SERVER.match(text)
    if match is None:
        raise InputError(f"init: --server {text!r}: expected NAME=[USER@]ADDRESS[:PORT]")
    server: dict[str, Any] = {"name": match["name"], "address": match["host"].strip("[]")}
    if match["port"]:
        server["port"] = int(match["port"])
    user = match["user"] or args.user
    optional = {"user": user, "key_file": args.key, "known_hosts": args.known_hosts}
    return server | {key: value for key, value in optional.items() if value is not None}


def _pair(flag: str, text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name or not value:
        raise InputError(f"init: {flag} {text!r}: expected NAME=COMMAND")
    return name, value


def _placeholders(args: argparse.Namespace) -> list[str]:
    missing = {"servers": not args.server, "deploy.steps": not args.step}
    return [key for key, placeholder in missing.items() if placeholder]


def _directory_name(path: Path) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", path.absolute().parent.name).strip("-._")
    return name[:64] or "app"


def _create(path: Path, text: str) -> None:
    """Write a new private file; refuse to replace one."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(
            f"init: {path} exists; not overwritten (move it, or -f another file)"
        ) from None
    except OSError as exc:
        raise InputError(f"init: cannot write {path}: {exc.strerror}") from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"init: cannot write {path}: {exc.strerror}") from None
