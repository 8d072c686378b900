"""A commented manifest to start from (``baton init``), written from the models themselves.

Each key of the models appears under its description: the keys given are set, the others are
commented out showing their default. A key added to the models shows up here by itself, with
its docstring as the comment. Keys given come first in each mapping, so a list item's ``-``
always starts a real key; the options follow.
"""

from __future__ import annotations

import dataclasses
import textwrap
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any

import yaml

from baton.config.docs import field_docs
from baton.config.model import Manifest
from baton.config.validation import Frozen, Key, expand, is_model, keys

WIDTH = 99
Lines = list[str]


def render_manifest(data: Mapping[str, Any], header: Sequence[str] = ()) -> str:
    """``data`` (a manifest as YAML-ready values) as commented YAML, after ``header`` lines."""
    lines = [f"# {line}".rstrip() for line in header] + ([""] if header else [])
    lines += _mapping(Manifest, data, "", full=True)
    return "\n".join(lines) + "\n"


def _mapping(model: type[Frozen], data: Mapping[str, Any], indent: str, full: bool) -> Lines:
    """The keys of ``model``: those in ``data``, then (when ``full``) the rest commented out."""
    fields = keys(model)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValueError(f"{model.__name__} has no key(s) {', '.join(unknown)}")
    docs = field_docs(model) if full else {}
    shown: set[Any] = set()  # item models already shown whole in this mapping
    blocks = []
    for name, field in fields.items():
        if name in data:
            item = _item_annotation(field.annotation)
            whole = full and item not in shown
            shown.add(item)
            blocks.append(
                _comment(docs.get(name), field, indent)
                + _given(name, field, data[name], indent, whole)
            )
    blocks += [
        _comment(docs.get(name), field, indent, default=False) + _absent(name, field, indent)
        for name, field in fields.items()
        if name not in data and full
    ]
    gap = [""] if not indent else []  # a blank line between top-level keys
    return [line for number, block in enumerate(blocks) for line in (gap * bool(number)) + block]


def _given(name: str, field: Key, value: Any, indent: str, full: bool) -> Lines:
    if value in ([], ()) and (example := _example_item(name, field, indent, full)):
        return example  # inside a default being commented out (hooks:, notifications:)
    if isinstance(value, Mapping) and (model := _model_for(field.annotation, value)):
        return [f"{indent}{name}:", *_mapping(model, value, indent + "  ", full)]
    item = _item_annotation(field.annotation)
    if isinstance(value, list | tuple) and value and all(isinstance(v, Mapping) for v in value):
        lines = [f"{indent}{name}:"]
        for number, entry in enumerate(value):
            model = _model_for(item, entry)
            if model is None:
                raise ValueError(f"{name}[{number}]: no model for {entry!r}")
            lines += _item(_mapping(model, entry, indent + "    ", full and number == 0), indent)
        return lines
    return [f"{indent}{name}: {_yaml(value)}".rstrip()]


def _item(lines: Lines, indent: str) -> Lines:
    """A list item's lines with its ``- `` on the first key (given keys come first)."""
    first = next(i for i, line in enumerate(lines) if not line.lstrip().startswith("#"))
    comments = [indent + "  " + line.lstrip() for line in lines[:first]]
    return [*comments, f"{indent}  - {lines[first].lstrip()}", *lines[first + 1 :]]


def _absent(name: str, field: Key, indent: str) -> Lines:
    """A key left out, commented: with its default, or its default's keys for a model."""
    if field.required:
        raise ValueError(f"{name} is required: give it a value")
    default = field.default
    if default == () and (example := _example_item(name, field, indent)):
        return [f"{indent}# {line[len(indent) :]}" for line in example]
    if isinstance(default, Frozen):
        block = _given(name, field, dataclasses.asdict(default), indent, full=True)
        return [f"{indent}# {line[len(indent) :]}" for line in block]
    return [f"{indent}# {name}: {_yaml(default)}".rstrip()]


def _example_item(name: str, field: Key, indent: str, full: bool = True) -> Lines:
    """An empty list of models as a list of one example item (its required keys as ``...``),
    for commenting out, so each of the item's keys shows with its description."""
    models = _models(_item_annotation(field.annotation))
    if not models:
        return []
    required = {k: "..." for k, f in keys(models[0]).items() if f.required}
    if not required:
        return []
    lines = _mapping(models[0], required, indent + "    ", full)
    return [f"{indent}{name}:", *_item(lines, indent)]


def _comment(text: str | None, field: Key, indent: str, default: bool = True) -> Lines:
    """The field's description; ``default`` adds its default (a key set to something else)."""
    if not text:
        return []
    value = field.default
    if default and value not in (None, "", (), {}) and not isinstance(value, Frozen):
        text += f" Default: {_yaml(value)}."
    width = max(WIDTH - len(indent) - 2, 40)
    return [f"{indent}# {line}" for line in textwrap.wrap(text, width)]


def _model_for(annotation: Any, value: Mapping[str, Any]) -> type[Frozen] | None:
    """The model among ``annotation``'s that fits ``value``: its keys, and its literal values
    (the ``type`` of a load balancer, say)."""
    candidates = _models(annotation)
    for model in candidates:
        fields = keys(model)
        if set(value) <= set(fields) and all(
            value[key] in typing.get_args(fields[key].annotation)
            for key in value
            if typing.get_origin(fields[key].annotation) is typing.Literal
        ):
            return model
    return candidates[0] if candidates else None


def _models(annotation: Any) -> list[type[Frozen]]:
    """The model classes an annotation allows, through ``Annotated``, ``|`` and ``Optional``."""
    annotation = expand(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models(typing.get_args(annotation)[0])
    if origin is typing.Union or isinstance(annotation, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _models(arg)]
    if is_model(annotation):
        return [annotation]
    return []


def _item_annotation(annotation: Any) -> Any:
    """What a ``tuple[X, ...]`` or ``list[X]`` (maybe optional) holds: X."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or isinstance(annotation, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _item_annotation(inner[0]) if len(inner) == 1 else annotation
    if origin in (tuple, list):
        return typing.get_args(annotation)[0]
    return annotation


def _yaml(value: Any) -> str:
    """One value as inline YAML; nothing for None (an empty value is null)."""
    if value is None:
        return ""
    text = yaml.safe_dump(
        _plain(value), default_flow_style=True, sort_keys=False, width=10**6, allow_unicode=True
    )
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _plain(value: Any) -> Any:
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
