"""``baton init``: a commented manifest that `baton plan` accepts, never over an existing one;
bad flags are one line, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from baton.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_init_writes_a_private_manifest_plan_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "baton.yml"
    code, out, _ = run(
        capsys, "init", "-f", str(path), "--app", "shop", "--server", "web1=10.0.0.11",
        "--server", "web2=ops@10.0.0.12:2222", "--haproxy", "/run/haproxy/admin.sock",
        "--backend", "app",
    )  # fmt: skip
    assert code == 0
    assert out == (
        f"wrote {path} and {tmp_path / 'baton.schema.json'}; next: baton check -s shop -f {path}\n"
    )
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    assert "  - name: web2\n    address: 10.0.0.12\n    port: 2222\n    user: ops\n" in text
    assert "    # The SSH port.\n    # port: 22\n" in text  # web1, with every option
    assert yaml.safe_load(text)["load_balancers"] == [
        {
            "name": "haproxy",
            "type": "haproxy",
            "socket": "/run/haproxy/admin.sock",
            "backend": "app",
        }
    ]
    assert "Replace the placeholders: deploy.steps." in text
    code, out, _ = run(capsys, "plan", "-s", "shop", "-f", str(path), "--state", str(tmp_path))
    assert code == 0 and "1. web1: remove from haproxy -> step fetch -> step restart" in out


ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef"


def test_init_names_nginx_and_a_target_group_outermost_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "baton.yml"
    code, _, err = run(
        capsys, "init", "-f", str(path), "--app", "shop", "--server", "web1=10.0.0.11",
        "--server", "web2=10.0.0.12", "--nginx", "/etc/nginx/baton/shop.conf",
        "--upstream", "shop", "--elbv2", ARN, "--app-port", "8000",
    )  # fmt: skip
    assert code == 0, err
    assert yaml.safe_load(path.read_text())["load_balancers"] == [
        {
            "name": "alb",
            "type": "elbv2",
            "target_group_arn": ARN,
            "servers": {"web1": "10.0.0.11:8000", "web2": "10.0.0.12:8000"},
        },
        {
            "name": "nginx",
            "type": "nginx",
            "file": "/etc/nginx/baton/shop.conf",
            "upstream": "shop",
            "servers": {"web1": "10.0.0.11:8000", "web2": "10.0.0.12:8000"},
        },
    ]
    code, out, _ = run(capsys, "plan", "-s", "shop", "-f", str(path), "--state", str(tmp_path))
    assert code == 0 and "1. web1: remove from alb, nginx -> " in out, out


def test_init_refuses_to_overwrite_a_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "baton.yml"
    path.write_text("application: mine\n")
    code, _, err = run(capsys, "init", "-f", str(path))
    assert code == 2
    assert (
        err == f"baton: error: init: {path} exists; not overwritten (move it, or -f another file)\n"
    )
    assert path.read_text() == "application: mine\n"
    assert not (tmp_path / "baton.schema.json").exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--server", "web1"], "init: --server 'web1': expected NAME=[USER@]ADDRESS[:PORT]"),
        (["--haproxy", "/run/h.sock"], "init: --haproxy and --backend go together"),
        (["--nginx", "/etc/nginx/x.conf"], "init: --nginx and --upstream go together"),
        (["--elbv2", "arn:aws:nope"], "load_balancers[0].target_group_arn"),
        (["--step", "restart"], "init: --step 'restart': expected NAME=COMMAND"),
        (
            ["--server", "web 1=10.0.0.1"],
            "servers[0].name: 'web 1' is not valid here (letters, digits",
        ),
        (["--health-url", "localhost:8000"], "deploy.health_check.url: 'localhost:8000'"),
    ],
)
def test_bad_flags_are_one_line_exit_2_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    code, _, err = run(capsys, "init", "-f", str(tmp_path / "baton.yml"), *flags)
    assert code == 2
    assert err.count("\n") == 1 and message in err, err
    assert list(tmp_path.iterdir()) == []
