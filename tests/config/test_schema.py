"""The manifest's JSON Schema and ``baton init``'s manifest, both generated from the models.

Every example manifest in the README and what ``baton init`` writes validate against the
schema (with the ``jsonschema`` package, as an editor would), the loader accepts them too, and
a misspelt key fails both.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from baton._exceptions import ManifestError
from baton.cli.main import main
from baton.config import parse_manifest
from baton.config.schema import manifest_schema

README = Path(__file__).parents[2] / "README.md"
INIT_FLAGS = [
    "--app", "shop", "--server", "web1=10.0.0.11", "--server", "web2=ops@10.0.0.12:2222",
    "--user", "deploy", "--key", "~/.ssh/deploy", "--known-hosts", "~/.ssh/known_hosts",
    "--haproxy", "127.0.0.1:9999", "--backend", "app",
    "--health-url", "http://{address}:8000/healthz",
    "--step", "fetch=curl -fsSo /tmp/shop.tgz https://releases.example/shop-{version}.tgz",
    "--step", "restart=sudo systemctl restart shop",
]  # fmt: skip


def validator() -> jsonschema.protocols.Validator:
    schema = manifest_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def readme_manifests() -> list[dict[str, Any]]:
    """Each ```yaml block of the README; a fragment (no ``application``) merged into the first
    whole manifest, as a reader would add it."""
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", README.read_text(), re.S)]
    whole = [b for b in blocks if "application" in b]
    return whole + [_merged(whole[0], b) for b in blocks if "application" not in b]


def _merged(base: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(base)
    for key, value in part.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merged(result[key], value)
        else:
            result[key] = value
    return result


def init(tmp_path: Path, *flags: str) -> Path:
    path = tmp_path / "baton.yml"
    assert main(["init", "-f", str(path), *flags]) == 0
    return path


def test_every_readme_manifest_validates_and_loads() -> None:
    manifests = readme_manifests()
    assert len(manifests) >= 2
    for manifest in manifests:
        validator().validate(manifest)
        parse_manifest(yaml.safe_dump(manifest))


@pytest.mark.parametrize("flags", [[], INIT_FLAGS], ids=["bare", "every-flag"])
def test_init_writes_a_manifest_the_schema_beside_it_accepts(
    tmp_path: Path, flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    text = init(tmp_path, *flags).read_text()
    assert text.splitlines()[0] == "# yaml-language-server: $schema=./baton.schema.json"
    saved = json.loads((tmp_path / "baton.schema.json").read_text())
    capsys.readouterr()
    assert main(["schema"]) == 0
    assert saved == json.loads(capsys.readouterr().out) == manifest_schema()
    validator().validate(yaml.safe_load(text))
    parse_manifest(text)


@pytest.mark.parametrize(
    ("path", "misspelt"),
    [
        ((), "aplication"),
        (("servers", 0), "adress"),
        (("load_balancers", 0, "configuration"), "wait_after_removing_server"),
        (("deploy", "health_check"), "dealine"),
    ],
)
def test_a_misspelt_key_fails_the_schema_and_the_loader(
    path: tuple[str | int, ...], misspelt: str
) -> None:
    manifest = readme_manifests()[0]
    node: Any = manifest
    for part in path:
        node = node[part]
    node[misspelt] = 1
    error = jsonschema.exceptions.best_match(validator().iter_errors(manifest))
    assert error is not None and f"('{misspelt}' was unexpected)" in error.message
    with pytest.raises(ManifestError, match=f"unknown key '{misspelt}'; did you mean"):
        parse_manifest(yaml.safe_dump(manifest))


def test_every_key_has_a_description_and_its_default() -> None:
    """A key added to the models without a docstring under it fails here: the docstring is
    what ``baton schema`` and ``baton init`` tell the user the key does."""
    definitions = manifest_schema()["$defs"] | {"Manifest": manifest_schema()}
    undescribed = [
        f"{model}.{key}"
        for model, definition in definitions.items()
        for key, prop in definition["properties"].items()
        if not prop.get("description")
    ]
    assert undescribed == []
    server = definitions["Server"]["properties"]
    assert (server["port"]["default"], server["user"]["default"]) == (22, "deploy")
    assert "source" not in manifest_schema()["properties"]  # the loader's, not a key


def test_init_shows_every_key_of_the_models(tmp_path: Path) -> None:
    """Every key appears in what init writes (set, or commented out with its default), so a
    key added to the models appears there by itself."""
    text = init(tmp_path, *INIT_FLAGS).read_text()
    schema = manifest_schema()
    other_kinds = {"NginxBalancer", "ELBv2Balancer", "CommandBalancer", "SSHEndpoint"}
    definitions = {  # init writes one load balancer, of type haproxy
        k: v for k, v in schema["$defs"].items() if k not in {"SecretSource", *other_kinds}
    }
    for definition in [schema, *definitions.values()]:
        for key in definition["properties"]:
            assert re.search(rf"^[\s#]*(- )?{key}:", text, re.MULTILINE), key
    assert "#   wait_after_removing_servers:" in text
    assert "# The SSH port.\n    port: 2222" not in text  # only web1 is commented in full
