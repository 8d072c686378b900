"""pydantic's validation errors turned into one line naming file, line and key path, with a
"did you mean" for a mistyped key and the keys a load balancer of that kind takes."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from baton._exceptions import Location, ManifestError
from baton.balancers import kinds, models
from baton.config.composition import dotted, line_of
from baton.config.docs import reachable_models
from baton.config.model import Manifest
from baton.config.validation import expand, is_model, keys
from baton.config.values import KeyPath, PathError

_UNKNOWN_KEY = "unexpected_keyword_argument"
"""What pydantic calls a key that is not a field of the dataclass it validates."""
_MESSAGES = {
    "tuple_type": "should be a list",
    "dict_type": "should be a mapping of keys to values",
    "model_type": "should be a mapping of keys to values",
    "model_attributes_type": "should be a mapping of keys to values",
    "dataclass_type": "should be a mapping of keys to values",
    "int_type": "should be a whole number",
    "float_type": "should be a number",
    "bool_type": "should be true or false",
    "string_type": "should be a string",
    "missing": "is required",
}


def first_error(exc: ValidationError, file: str, lines: dict[KeyPath, int]) -> ManifestError:
    """The error to show: an unknown key first, then the earliest line; of a mapping given where
    a word or a mapping would do (``host: local`` or ``host: {address: ...}``), what is wrong
    with the mapping, not that it is not the word."""
    found = exc.errors()
    errors = sorted(
        found,
        key=lambda e: (
            e["type"] != _UNKNOWN_KEY,
            _follows_from_another(e, found),
            line_of(_clean(e["loc"], lines), lines) or 0,
            e["type"] == "literal_error" and isinstance(e["input"], dict),
        ),
    )
    error = errors[0]
    path = _clean(error["loc"], lines)
    inner = error.get("ctx", {}).get("error")
    if isinstance(inner, PathError):
        path = (*path, *inner.path)
    if error["type"] in {"union_tag_invalid", "union_tag_not_found"}:
        path = (*path, "type")
    return ManifestError(Location(file, line_of(path, lines), dotted(path)), _message(error, path))


def _follows_from_another(error: Any, errors: list[Any]) -> bool:
    """A list too short because an item inside it was invalid: the item's error is the cause
    (an only server with a bad address is about the address, not an empty list)."""
    loc = tuple(error["loc"])
    return error["type"] == "too_short" and any(
        len(other["loc"]) > len(loc) and tuple(other["loc"][: len(loc)]) == loc for other in errors
    )


def _clean(loc: tuple[int | str, ...], lines: dict[KeyPath, int]) -> KeyPath:
    """Drop pydantic's union-branch and validator labels from an error location (a key of the
    manifest that looks like a label, such as ``function-``, is kept)."""
    path: KeyPath = ()
    for part in loc:
        if _is_balancer_tag(path, part):
            continue
        if isinstance(part, int) or (*path, part) in lines or not _is_label(part):
            path = (*path, part)
    return path


def _is_balancer_tag(path: KeyPath, part: str | int) -> bool:
    """The ``type`` pydantic puts after ``load_balancers[i]`` to say which kind it validated."""
    return path[:1] == ("load_balancers",) and len(path) == 2 and part in models()


def _model_names() -> set[str]:
    """Class names pydantic puts in an error's location when it tried one side of a union."""
    return {*reachable_models(Manifest), *(model.__name__ for model in models().values())}


def _is_label(part: str) -> bool:
    return (
        part.startswith(("function-", "tagged-union"))
        or part in {"Path", "lax-or-strict", *_model_names()}
        or ("[" in part and "]" in part)
    )


def _message(error: ErrorDetails, path: KeyPath) -> str:
    kind = error["type"]
    if kind == _UNKNOWN_KEY:
        return _unknown_key(path, error["loc"])
    if kind == "union_tag_invalid":
        types_ = ", ".join(repr(t) for t in models())
        return f"should be one of {types_}, got {error.get('ctx', {}).get('tag')!r}"
    if kind == "union_tag_not_found":
        return f"is required (one of {', '.join(repr(t) for t in models())})"
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
    }
    for kind in kinds().values():
        hints |= kind.hints
    return hints.get(
        str(last), "letters, digits, '.', '_' and '-', starting with a letter or digit"
    )


def _kind_of(value: object) -> str:
    if isinstance(value, tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


def _unknown_key(path: KeyPath, loc: tuple[int | str, ...]) -> str:
    key = str(path[-1])
    known = sorted(_fields_at(loc[:-1]))
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    kind = next((part for part in loc if part in models()), None)
    if kind is not None and path[:1] == ("load_balancers",) and len(path) == 3:
        owners = [t for t, model in models().items() if key in keys(model)]
        if owners:
            return (
                f"{key!r} is a key of type {' and '.join(owners)}, not {kind} "
                f"(type {kind} takes: {', '.join(known)})"
            )
    return f"unknown key {key!r}{hint} (valid keys: {', '.join(known)})"


def _fields_at(loc: tuple[int | str, ...]) -> list[str]:
    """The keys the model accepts at an error's location, for the "did you mean" hint."""
    current: Any = Manifest
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, str) and part in models() and _is_union(current):
            current = models()[part]
        elif isinstance(part, str) and _is_label(part):
            continue
        elif isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else current
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        elif is_model(current):
            key = keys(current).get(str(part))
            current = key.annotation if key else None
    current = _unwrap(current)
    return list(keys(current)) if is_model(current) else []


def _is_union(annotation: Any) -> bool:
    return isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated[...]`` and ``X | None`` so the model class (or a union of them) shows."""
    annotation = expand(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if not _is_union(annotation):
        return annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    models = [a for a in args if is_model(a)]
    if len(models) > 1:
        return annotation
    return models[0] if models else args[0]
