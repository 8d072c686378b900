import dataclasses
from pathlib import Path

import pytest

from baton import ManifestError
from baton.config import load_manifest, parse_manifest
from tests.manifests import manifest_text


def error_for(text: str) -> str:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text, "app.yml")
    return str(caught.value)


def test_a_good_manifest_becomes_frozen_objects() -> None:
    m = parse_manifest(manifest_text(2, waits=(5, 2)))
    assert m.application == "shop"
    assert [s.name for s in m.servers] == ["web1", "web2"]
    assert m.servers[0].port == 22 and m.servers[0].user == "deploy"
    assert m.load_balancers[0].configuration.wait_after_removing_servers == 5
    assert m.deploy.migration_step is not None and m.deploy.migration_step.name == "migrate"
    assert m.migration_server.name == "web1"
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.servers[0].name = "x"  # type: ignore[misc]


def test_marked_migration_server_wins_over_first() -> None:
    assert parse_manifest(manifest_text(3, migrations_on="web2")).migration_server.name == "web2"


def test_misspelt_key_names_file_line_path_and_suggestion() -> None:
    text = manifest_text(2).replace("    address: 127.0.1.2", "    adress: 127.0.1.2")
    message = error_for(text)
    line = text.splitlines().index("    adress: 127.0.1.2") + 1
    assert message.startswith(f"app.yml:{line}: servers[1].adress: unknown key 'adress'")
    assert "did you mean 'address'?" in message


def test_negative_wait_is_rejected_with_the_valid_range() -> None:
    message = error_for(manifest_text(2, waits=(-3, None)))
    assert "load_balancers[0].configuration.wait_after_removing_servers" in message
    assert "greater than or equal to 0" in message and "-3" in message


def test_wait_must_be_whole_seconds() -> None:
    message = error_for(manifest_text(2, waits=("2.5", None)))  # type: ignore[arg-type]
    assert "wait_after_removing_servers: should be a whole number, got 2.5" in message


def test_duplicate_server_names_are_rejected() -> None:
    text = manifest_text(2).replace("name: web2", "name: web1")
    assert "duplicate server name 'web1'" in error_for(text)


def test_unknown_load_balancer_server_mapping_is_rejected() -> None:
    text = manifest_text(2).replace(
        "    backend: app\n", "    backend: app\n    servers: {web9: s9}\n"
    )
    assert "maps unknown server(s) web9" in error_for(text)


def test_unknown_placeholder_is_rejected() -> None:
    text = manifest_text(1).replace("fetch {version}", "fetch {release}")
    message = error_for(text)
    assert "deploy.steps[0]" in message and "unknown placeholder {release}" in message


def test_wrong_load_balancer_type_lists_valid_types() -> None:
    message = error_for(manifest_text(1).replace("type: haproxy", "type: f5"))
    assert "load_balancers[0].type" in message and "'haproxy'" in message


def test_malformed_yaml_names_the_line() -> None:
    assert error_for("application: shop\nservers: [\n").startswith("app.yml:3: not valid YAML")


def test_empty_manifest() -> None:
    assert "is empty" in error_for("")


def test_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifest(tmp_path / "nope.yml")


def test_missing_required_key() -> None:
    text = "application: shop\nservers:\n  - name: a\n    address: 127.0.0.1\n"
    assert error_for(text) == "app.yml:1: deploy: is required"


def test_a_yaml_tag_the_safe_loader_cannot_build_is_a_clean_error() -> None:
    # Found by the hypothesis fuzz test: a bare "=" is YAML's "value" tag, which crashed.
    assert error_for("=") == (
        "app.yml:1: not valid YAML: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:value'"
    )
    assert error_for("application: !!python/name:os.system x").startswith(
        "app.yml:1: application: not valid YAML"
    )


def test_a_key_that_looks_like_a_pydantic_label_is_named() -> None:
    # Found by the hypothesis fuzz test: "function-" was dropped as a label, then IndexError.
    assert error_for("function-: null\n").startswith(
        "app.yml:1: function-: unknown key 'function-' (valid keys:"
    )


def test_step_stages_are_prepare_only_and_listed_first() -> None:
    text = manifest_text(2, prepare=True)
    assert parse_manifest(text).deploy.steps[0].prepare
    assert "deploy.steps[0].stage: should be one of 'prepare'" in error_for(
        text.replace("stage: prepare", "stage: build")
    )
    late = text.replace("      stage: prepare\n", "") + "      stage: prepare\n"
    assert "deploy.steps[2].stage: prepare steps run before the others; list 'restart'" in (
        error_for(late)
    )
    migrating = manifest_text(2).replace("migration: true", "migration: true\n      stage: prepare")
    assert "deploy.steps[1].stage: a migration step cannot be a prepare step" in error_for(
        migrating
    )


def test_verify_error_rate_is_a_fraction_and_one_probe_at_most() -> None:
    text = manifest_text(2) + "  verify:\n    max_error_rate: 5\n"
    assert "deploy.verify.max_error_rate:" in error_for(text)
    assert "less than or equal to 1" in error_for(text)
    both = manifest_text(2) + "  verify:\n    url: http://x/\n    command: probe\n"
    assert "give at most one of url or command" in error_for(both)
    assert parse_manifest(manifest_text(2) + "  verify:\n    duration: 3\n").deploy.verify


@pytest.mark.parametrize("address", ["'[::1'", "-x", "a..b", "''"])
def test_an_only_server_with_a_bad_address_names_the_address(address: str) -> None:
    text = (
        f"application: shop\nservers:\n  - name: web1\n    address: {address}\n"
        "deploy:\n  steps:\n    - {name: a, run: x}\n"
    )
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text, "shop.yml")
    assert str(caught.value).startswith("shop.yml:4: servers[0].address: ")
    assert "at least 1 item" not in str(caught.value)
