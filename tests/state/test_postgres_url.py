"""A PostgreSQL state URL as baton shows it: never its password, wherever the URL holds one
and however malformed it is (issue 20). These need no server: the URLs are refused or point
at a loopback port nothing listens on."""

from __future__ import annotations

import socket

import pytest

from baton.cli.main import main
from baton.state.postgres import redacted


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://baton:s3cret@db/baton", "postgresql://baton:***@db/baton"),
        ("postgresql://baton@db/baton?password=s3cret", "postgresql://baton@db/baton?password=***"),
        (
            "postgres://baton@db/baton?sslmode=require&pass%77ord=s3cret",
            "postgres://baton@db/baton?sslmode=require&pass%77ord=***",
        ),
        ("postgresql://baton:s3cret@[::1:5432/baton", "postgresql://baton:***@[::1:5432/baton"),
        ("postgresql://baton:s3?cret@db/baton", "postgresql://baton:***@db/baton"),
        ("postgresql://baton:s3/cret@db/baton", "postgresql://baton:***@db/baton"),
        ("postgresql://baton@db/baton", "postgresql://baton@db/baton"),
    ],
)
def test_the_password_is_masked_wherever_the_url_holds_it(url: str, shown: str) -> None:
    assert redacted(url) == shown


def run(capsys: pytest.CaptureFixture[str], url: str) -> tuple[int, str]:
    status = main(["history", "-s", "shop", "--state", url])
    captured = capsys.readouterr()
    assert captured.out == ""
    return status, captured.err


def test_a_password_in_the_query_string_is_not_shown(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://baton@127.0.0.1:{closed_port()}/baton?password=s3cret"
    status, err = run(capsys, url)
    assert status == 2 and err.count("\n") == 1 and "s3cret" not in err
    assert err.startswith(
        f"baton: error: cannot reach the PostgreSQL state at {url.replace('s3cret', '***')}: "
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://baton:s3cr%zzet@127.0.0.1/baton", 'invalid percent-encoded token: "***"'),
        ("postgresql://baton:s3 cret@127.0.0.1/baton", 'unexpected spaces found in "***"'),
        ("postgresql://baton:s3cret@[::1:5432/baton", 'looking for matching "]" in IPv6 host'),
    ],
)
def test_a_malformed_url_is_one_line_without_its_password(
    capsys: pytest.CaptureFixture[str], url: str, reason: str
) -> None:
    """libpq quotes a malformed password, or the whole URL, in its error; an unclosed IPv6
    bracket ended in a traceback."""
    status, err = run(capsys, url)
    assert status == 2 and err.count("\n") == 1, err
    assert "s3" not in err and "cret" not in err
    assert err.startswith(f"baton: error: {redacted(url)} is not a valid PostgreSQL URL (")
    assert reason in err
    assert err.endswith("write it as postgresql://USER@HOST:PORT/DATABASE "
                        "(an IPv6 address in brackets: [::1])\n")  # fmt: skip
