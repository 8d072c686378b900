"""Parse manifest text into a :class:`~baton.config.model.Manifest`.

YAML is composed into nodes first so that every key path keeps its line number; pydantic then
validates, and each error is turned into one line naming file, line and key path, with a
"did you mean" for a mistyped key.

Everything about the input is bounded before it can cost much: the file's size, its encoding,
how deep it nests and how many values its aliases expand to. Each is a one-line error too.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any, NoReturn

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from baton._exceptions import Location, ManifestError
from baton.config import files, model
from baton.config.model import LOAD_BALANCER_TYPES, KeyPath, Manifest, PathError
from baton.config.validation import is_model, keys, validate

MAX_DEPTH = 64
"""Nesting of lists and mappings; a manifest needs 6."""
MAX_VALUES = 100_000
"""Values (mappings, lists, scalars) after expanding aliases; 10,000 servers take ~50,000."""
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")

_MODEL_NAMES = frozenset(
    name for name, value in vars(model).items() if isinstance(value, type) and name[0].isupper()
)
"""Class names pydantic puts in an error's location when it tried one side of a union."""

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


def parse_manifest(text: str, file: str = "baton.yml") -> Manifest:
    """Parse manifest text; ``file`` is the name used in error messages."""
    data, lines = _compose(text, file)
    if not isinstance(data, dict):
        raise ManifestError(
            Location(file, 1, ""), "should be a mapping with application, servers, deploy"
        )
    try:
        return validate(Manifest, {**data, "source": Path(file)})
    except ValidationError as exc:
        raise _first_error(exc, file, lines) from None


def locate(manifest: Manifest, path: KeyPath) -> Location:
    """Where ``path`` is in the manifest's file; without a line when the file cannot be read."""
    file = str(manifest.source)
    try:
        _, lines = _compose(files.text(files.read(Path(file)), file), file)
    except (OSError, ManifestError):
        return Location(file, None, _dotted(path))
    return Location(file, _line_of(path, lines), _dotted(path))


def _compose(text: str, file: str) -> tuple[Any, dict[KeyPath, int]]:
    try:
        node = _BoundedLoader(text).get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if isinstance(exc, yaml.reader.ReaderError):
            line = text.count("\n", 0, exc.position) + 1
        raise ManifestError(Location(file, line, ""), f"not valid YAML: {problem}") from None
    if node is None:
        raise ManifestError(
            Location(file, 1, ""), "is empty; it needs application, servers, deploy"
        )
    builder = _Builder(file)
    return builder.data(node, ()), builder.lines


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader's composer, refusing nesting deeper than MAX_DEPTH (Python's recursion
    limit would otherwise end it with a RecursionError)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    problem=f"nested deeper than {MAX_DEPTH} levels",
                    problem_mark=self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Builder:
    """Turns composed nodes into plain data, noting each key path's line.

    Aliases are expanded here, so the number of values built is bounded: a few hundred bytes
    of nested aliases ("billion laughs") would otherwise expand to billions of values.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[KeyPath, int] = {}
        self.budget = MAX_VALUES
        self._constructor = yaml.SafeLoader("")

    def data(self, node: yaml.Node, path: KeyPath) -> Any:
        self.budget -= 1
        if self.budget < 0:
            self._refuse(path, f"more than {MAX_VALUES:,} values once aliases are expanded")
        if len(path) > MAX_DEPTH:  # an alias inside what it names, or aliases stacked deep
            self._refuse(path, f"nested deeper than {MAX_DEPTH} levels once aliases are expanded")
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return tuple(self.data(item, (*path, i)) for i, item in enumerate(node.value))
        return self.scalar(node, path)

    def _refuse(self, path: KeyPath, problem: str) -> NoReturn:
        top = path[:1]  # deeper paths run through aliases: their lines are the anchors'
        location = Location(self.file, self.lines.get(top), _dotted(top))
        raise ManifestError(location, f"{problem}; not a manifest?")

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(self.scalar(key_node, path))
            key_path = (*path, key)
            line = key_node.start_mark.line + 1
            if key in result:
                raise ManifestError(Location(self.file, line, _dotted(key_path)), "duplicate key")
            self.lines[key_path] = line
            result[key] = self.data(value_node, key_path)
        return result

    def scalar(self, node: yaml.Node, path: KeyPath) -> Any:
        """A plain value; a tag the safe loader cannot build (``=``, ``!!python/...``) or a
        list or mapping used as a key is an error."""
        location = Location(self.file, node.start_mark.line + 1, _dotted(path))
        if not isinstance(node, yaml.ScalarNode):
            raise ManifestError(location, "a key should be a plain value, not a list or mapping")
        constructors = self._constructor.yaml_constructors
        build = constructors.get(node.tag) or constructors[None]
        try:
            return build(self._constructor, node)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ManifestError(location, f"not valid YAML: {problem}") from None


def _first_error(exc: ValidationError, file: str, lines: dict[KeyPath, int]) -> ManifestError:
    errors = sorted(
        exc.errors(),
        key=lambda e: (
            e["type"] != _UNKNOWN_KEY,
            _line_of(_clean(e["loc"], lines), lines) or 0,
        ),
    )
    error = errors[0]
    path = _clean(error["loc"], lines)
    inner = error.get("ctx", {}).get("error")
    if isinstance(inner, PathError):
        path = (*path, *inner.path)
    if error["type"] in {"union_tag_invalid", "union_tag_not_found"}:
        path = (*path, "type")
    return ManifestError(
        Location(file, _line_of(path, lines), _dotted(path)), _message(error, path)
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
    return path[:1] == ("load_balancers",) and len(path) == 2 and part in LOAD_BALANCER_TYPES


def _is_label(part: str) -> bool:
    return (
        part.startswith(("function-", "tagged-union"))
        or part in {"Path", "lax-or-strict", *_MODEL_NAMES}
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
    if kind == _UNKNOWN_KEY:
        return _unknown_key(path, error["loc"])
    if kind == "union_tag_invalid":
        types_ = ", ".join(repr(t) for t in LOAD_BALANCER_TYPES)
        return f"should be one of {types_}, got {error.get('ctx', {}).get('tag')!r}"
    if kind == "union_tag_not_found":
        return f"is required (one of {', '.join(repr(t) for t in LOAD_BALANCER_TYPES)})"
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
        "target_group_arn": "arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID",
        "region": "an AWS region such as eu-west-1",
        "endpoint_url": "an http:// or https:// URL",
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


def _unknown_key(path: KeyPath, loc: tuple[int | str, ...]) -> str:
    key = str(path[-1])
    known = sorted(_fields_at(loc[:-1]))
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    kind = next((part for part in loc if part in LOAD_BALANCER_TYPES), None)
    if kind is not None and path[:1] == ("load_balancers",) and len(path) == 3:
        owners = [t for t, model in LOAD_BALANCER_TYPES.items() if key in keys(model)]
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
        if isinstance(part, str) and part in LOAD_BALANCER_TYPES and _is_union(current):
            current = LOAD_BALANCER_TYPES[part]
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
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if not _is_union(annotation):
        return annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    models = [a for a in args if is_model(a)]
    if len(models) > 1:
        return annotation
    return models[0] if models else args[0]
