"""Load a manifest file into a :class:`~baton.config.model.Manifest`.

YAML is composed into nodes first so that every key path keeps its line number; pydantic then
validates, and each error is turned into one line naming file, line and key path, with a
"did you mean" for a mistyped key.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from baton._exceptions import Location, ManifestError
from baton.config.model import Manifest, PathError

KeyPath = tuple[str | int, ...]
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")

_MESSAGES = {
    "tuple_type": "should be a list",
    "dict_type": "should be a mapping of keys to values",
    "model_type": "should be a mapping of keys to values",
    "model_attributes_type": "should be a mapping of keys to values",
    "int_type": "should be a whole number",
    "float_type": "should be a number",
    "bool_type": "should be true or false",
    "string_type": "should be a string",
    "missing": "is required",
}


def load_manifest(path: Path | str) -> Manifest:
    """Read, parse and validate a manifest file, or raise ManifestError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ManifestError(Location(str(path), None, ""), f"cannot read: {exc.strerror}") from exc
    return parse_manifest(text, str(path))


def parse_manifest(text: str, file: str = "baton.yml") -> Manifest:
    """Parse manifest text; ``file`` is the name used in error messages."""
    data, lines = _compose(text, file)
    if not isinstance(data, dict):
        raise ManifestError(
            Location(file, 1, ""), "should be a mapping with application, servers, deploy"
        )
    try:
        return Manifest.model_validate({**data, "source": Path(file)})
    except ValidationError as exc:
        raise _first_error(exc, file, lines) from None


def locate(manifest: Manifest, path: KeyPath) -> Location:
    """Where ``path`` is in the manifest's file; without a line when the file cannot be read."""
    file = str(manifest.source)
    try:
        _, lines = _compose(Path(file).read_text(encoding="utf-8"), file)
    except (OSError, ManifestError):
        return Location(file, None, _dotted(path))
    return Location(file, _line_of(path, lines), _dotted(path))


def _compose(text: str, file: str) -> tuple[Any, dict[KeyPath, int]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if isinstance(exc, yaml.reader.ReaderError):
            line = text.count("\n", 0, exc.position) + 1
        raise ManifestError(Location(file, line, ""), f"not valid YAML: {problem}") from None
    lines: dict[KeyPath, int] = {}
    if node is None:
        raise ManifestError(
            Location(file, 1, ""), "is empty; it needs application, servers, deploy"
        )
    return _to_data(node, (), lines, file), lines


def _to_data(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], file: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, path, file)
            key_path = (*path, str(key))
            if str(key) in result:
                raise ManifestError(
                    Location(file, key_node.start_mark.line + 1, _dotted(key_path)), "duplicate key"
                )
            lines[key_path] = key_node.start_mark.line + 1
            result[str(key)] = _to_data(value_node, key_path, lines, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        return tuple(_to_data(item, (*path, i), lines, file) for i, item in enumerate(node.value))
    return _scalar(node, path, file)


def _scalar(node: yaml.Node, path: KeyPath, file: str) -> Any:
    """A plain value; a tag the safe loader cannot build (``=``, ``!!python/...``) is an error."""
    try:
        return yaml.SafeLoader(" ").construct_object(node)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        location = Location(file, node.start_mark.line + 1, _dotted(path))
        raise ManifestError(location, f"not valid YAML: {problem}") from None


def _first_error(exc: ValidationError, file: str, lines: dict[KeyPath, int]) -> ManifestError:
    errors = sorted(
        exc.errors(),
        key=lambda e: (
            e["type"] != "extra_forbidden",
            _line_of(_clean(e["loc"], lines), lines) or 0,
        ),
    )
    error = errors[0]
    path = _clean(error["loc"], lines)
    inner = error.get("ctx", {}).get("error")
    if isinstance(inner, PathError):
        path = (*path, *inner.path)
    return ManifestError(
        Location(file, _line_of(path, lines), _dotted(path)), _message(error, path)
    )


def _clean(loc: tuple[int | str, ...], lines: dict[KeyPath, int]) -> KeyPath:
    """Drop pydantic's union-branch and validator labels from an error location (a key of the
    manifest that looks like a label, such as ``function-``, is kept)."""
    path: KeyPath = ()
    for part in loc:
        if isinstance(part, int) or (*path, part) in lines or not _is_label(part):
            path = (*path, part)
    return path


def _is_label(part: str) -> bool:
    return (
        part.startswith(("function-", "tagged-union"))
        or part in {"Path", "lax-or-strict"}
        or ("[" in part and "]" in part)
    )


def _line_of(path: KeyPath, lines: dict[KeyPath, int]) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _dotted(path: KeyPath) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not _PLAIN_KEY.match(part):
            text += f"[{part!r}]"
        else:
            text += f".{part}" if text else part
    return text


def _message(error: ErrorDetails, path: KeyPath) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return _unknown_key(path)
    if kind == "literal_error":
        return (
            f"should be one of {error.get('ctx', {}).get('expected', '')}, got {error['input']!r}"
        )
    if kind in {"greater_than_equal", "greater_than", "less_than_equal"}:
        return f"{error['msg'].replace('Input should be', 'should be')}, got {error['input']!r}"
    if kind == "string_pattern_mismatch":
        return f"{error['input']!r} is not valid here ({_pattern_hint(path)})"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if kind in _MESSAGES:
        got = "" if kind == "missing" else f", got {_kind_of(error['input'])}"
        return _MESSAGES[kind] + got
    return str(error["msg"]).replace("Input should be", "should be")


def _pattern_hint(path: KeyPath) -> str:
    last = path[-1] if path else ""
    if last == "from_env" or (len(path) > 1 and path[-2] in {"environment", "secrets"}):
        return "a variable name: letters, digits and _, not starting with a digit"
    hints = {
        "httpchk": "a path starting with /",
        "url": "an http:// or https:// URL",
        "address": "host:port",
    }
    return hints.get(
        str(last), "letters, digits, '.', '_' and '-', starting with a letter or digit"
    )


def _kind_of(value: object) -> str:
    if isinstance(value, tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


def _unknown_key(path: KeyPath) -> str:
    key = str(path[-1])
    known = sorted(_fields_at(path[:-1]))
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key {key!r}{hint} (valid keys: {', '.join(known)})"


def _fields_at(path: KeyPath) -> list[str]:
    """The keys the model accepts at a key path, for the "did you mean" hint."""
    current: Any = Manifest
    for part in path:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else current
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            current = field.annotation if field else None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [n for n, f in current.model_fields.items() if not f.exclude]
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip ``X | None`` so the model class shows."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return next((a for a in typing.get_args(annotation) if a is not type(None)), annotation)
    return annotation
