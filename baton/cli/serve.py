"""``baton serve``: the web dashboard on the same state as the CLI."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from pathlib import Path

from baton._exceptions import InputError
from baton.cli.common import Commands, add_command, add_state
from baton.withheld import withhold

EPILOG = """\
The dashboard binds to 127.0.0.1 unless --host says otherwise. It prints a one-time login link
for a browser and an API token for scripts (Authorization: Bearer TOKEN); both change every
time the server starts. A browser that lost the link logs in at /login with the API token;
its session lasts --session-hours (12 by default) or until it logs out. API reference:
/api/docs once logged in.

The deploy webhook (POST /hooks/deploy/APP, for CI) is on when a secret of 32 bytes or more
is given: requests carry X-Baton-Timestamp, X-Baton-Delivery and X-Baton-Signature (see the
README's deploy webhook section), or GitHub's X-Hub-Signature-256 with X-GitHub-Delivery.

examples:
  baton serve -f shop.yml -f blog.yml
  baton serve --port 9000 --state /var/lib/baton -f baton.yml
  baton serve -f baton.yml --hook-secret-env BATON_HOOK_SECRET
"""


def register_serve(commands: Commands) -> None:
    parser = add_command(
        commands,
        "serve",
        "web dashboard: deploy, deploy with options, and watch it happen",
        serve,
        description="Serve the web dashboard and its JSON API for the given manifests.",
        epilog=EPILOG,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    parser.add_argument(
        "--session-hours",
        type=_hours,
        default=12.0,
        metavar="HOURS",
        help="a browser's login lasts this long (default 12)",
    )
    add_state(parser)
    parser.add_argument(
        "-f",
        "--file",
        dest="files",
        type=Path,
        action="append",
        metavar="MANIFEST",
        help="an application's manifest; repeat for several (default: ./baton.yml)",
    )
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument(
        "--hook-secret-env",
        metavar="VARIABLE",
        help="turn on the deploy webhook, signed with the secret in this environment variable",
    )
    secret.add_argument(
        "--hook-secret-file",
        type=Path,
        metavar="PATH",
        help="turn on the deploy webhook, signed with the secret in this file",
    )


def serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from baton.web import Credentials, create_app
    except ImportError as exc:
        raise InputError(
            f"the dashboard needs the web extra: pip install 'baton[web]' ({exc})"
        ) from None
    from baton.state import default_state

    secret = hook_secret(args.hook_secret_env, args.hook_secret_file)
    credentials = Credentials(session_seconds=args.session_hours * 3600)
    app = create_app(
        args.state or default_state(),
        args.files or [Path("baton.yml")],
        credentials=credentials,
    )
    app.state.hook_secret = secret
    base = f"http://{_url_host(args.host)}:{args.port}"
    if not _is_loopback(args.host):
        print(f"baton: warning: listening on {args.host}, not only this machine", file=sys.stderr)
    print(f"baton dashboard: {base}/login?token={credentials.login_token}  (one-time link)")
    print(f"API token: {credentials.api_token}  (Authorization: Bearer ...; docs: {base}/api/docs)")
    if secret:
        print(f"deploy webhook: POST {base}/hooks/deploy/APPLICATION (signed)")
    sys.stdout.flush()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _hours(text: str) -> float:
    try:
        hours = float(text)
    except ValueError:
        hours = 0.0
    if not 0 < hours <= 24 * 366:
        raise argparse.ArgumentTypeError(f"{text!r}: a number of hours, more than 0")
    return hours


MIN_HOOK_SECRET = 32
"""Bytes a webhook secret needs at least: a shorter one can be guessed from a signed request."""


def hook_secret(variable: str | None, path: Path | None) -> bytes | None:
    """The deploy webhook's secret from the environment or a file (never the manifest). The
    variable is taken out of the environment once read, so no command baton starts inherits
    it."""
    if variable is not None:
        value = os.environ.pop(variable, "")
        if not value:
            raise InputError(f"--hook-secret-env {variable}: the variable is not set or empty")
        return _long_enough(f"--hook-secret-env {variable}", value)
    if path is not None:
        try:
            value = path.expanduser().read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"--hook-secret-file {path}: cannot read it ({exc})") from None
        if not value:
            raise InputError(f"--hook-secret-file {path}: the file is empty")
        return _long_enough(f"--hook-secret-file {path}", value)
    return None


def _long_enough(option: str, value: str) -> bytes:
    """The secret as bytes, once it is long enough; masked in every deploy from now on."""
    secret = value.encode()
    if len(secret) < MIN_HOOK_SECRET:
        raise InputError(
            f"{option}: the secret is {len(secret)} bytes; use at least {MIN_HOOK_SECRET} "
            "(openssl rand -hex 32)"
        )
    withhold(value)
    return secret


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
