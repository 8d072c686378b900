"""The manifest's JSON Schema, generated from the models the loader validates with.

Editors that speak the YAML language server use it to complete and check ``baton.yml`` as it
is typed. It is derived, never written by hand, so it cannot disagree with the loader about
keys, types, bounds or defaults. What it cannot say (exactly one of ``socket`` or
``address``, at most one migration step, ...) the loader still checks, and the descriptions
mention it.
"""

from __future__ import annotations

from typing import Any

from baton.config.docs import field_docs, reachable_models
from baton.config.model import Manifest
from baton.config.validation import json_schema

DIALECT = "https://json-schema.org/draft/2020-12/schema"
TITLE = "baton manifest"


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of a manifest: every key with its description and default."""
    schema = json_schema(Manifest)
    definitions = schema.get("$defs", {})
    for name, model in reachable_models(Manifest).items():
        definition = schema if model is Manifest else definitions.get(name, {})
        for key, description in field_docs(model).items():
            if key in definition.get("properties", {}):
                definition["properties"][key]["description"] = description
    _tidy(schema)
    _branch_by_tag(schema)
    return {"$schema": DIALECT, **schema, "title": TITLE}


def _branch_by_tag(node: Any) -> None:
    """pydantic writes a union chosen by ``type`` (the load balancers) as ``oneOf`` with
    OpenAPI's ``discriminator``, which JSON Schema validators and editors ignore: they would
    report "not valid under any of the given schemas". One ``if type is X then X's schema``
    per kind lets them name the key that is wrong, as the loader does."""
    if isinstance(node, dict):
        tagged = node.get("discriminator")
        if isinstance(tagged, dict) and "oneOf" in node:
            key, mapping = tagged["propertyName"], tagged["mapping"]
            del node["discriminator"], node["oneOf"]
            node.update(
                type="object",
                required=[key],
                properties={key: {"enum": list(mapping), "description": "The kind."}},
                allOf=[
                    {"if": {"required": [key], "properties": {key: {"const": tag}}},
                     "then": {"$ref": ref}}
                    for tag, ref in mapping.items()
                ],
            )  # fmt: skip
        for value in node.values():
            _branch_by_tag(value)
    elif isinstance(node, list):
        for item in node:
            _branch_by_tag(item)


def _tidy(node: Any) -> None:
    """Descriptions on one line each, and no property titles (pydantic derives them from the
    key, so they only repeat it)."""
    if isinstance(node, dict):
        if isinstance(node.get("description"), str):
            node["description"] = " ".join(node["description"].split())
        for value in (node.get("properties") or {}).values():
            if isinstance(value, dict):
                value.pop("title", None)
        for value in node.values():
            _tidy(value)
    elif isinstance(node, list):
        for item in node:
            _tidy(item)
