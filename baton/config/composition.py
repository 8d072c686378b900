"""YAML composed into plain data, with the line of every key path kept for error messages.

Everything about the input is bounded before it can cost much: how deep it nests and how many
values its aliases expand to. Each is a one-line error naming file and line.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

import yaml

from baton._exceptions import Location, ManifestError
from baton.config.values import KeyPath

MAX_DEPTH = 64
"""Nesting of lists and mappings; a manifest needs 6."""
MAX_VALUES = 100_000
"""Values (mappings, lists, scalars) after expanding aliases; 10,000 servers take ~50,000."""
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def compose(text: str, file: str) -> tuple[Any, dict[KeyPath, int]]:
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
        location = Location(self.file, self.lines.get(top), dotted(top))
        raise ManifestError(location, f"{problem}; not a manifest?")

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(self.scalar(key_node, path))
            key_path = (*path, key)
            line = key_node.start_mark.line + 1
            if key in result:
                raise ManifestError(Location(self.file, line, dotted(key_path)), "duplicate key")
            self.lines[key_path] = line
            result[key] = self.data(value_node, key_path)
        return result

    def scalar(self, node: yaml.Node, path: KeyPath) -> Any:
        """A plain value; a tag the safe loader cannot build (``=``, ``!!python/...``) or a
        list or mapping used as a key is an error."""
        location = Location(self.file, node.start_mark.line + 1, dotted(path))
        if not isinstance(node, yaml.ScalarNode):
            raise ManifestError(location, "a key should be a plain value, not a list or mapping")
        constructors = self._constructor.yaml_constructors
        build = constructors.get(node.tag) or constructors[None]
        try:
            return build(self._constructor, node)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ManifestError(location, f"not valid YAML: {problem}") from None


def line_of(path: KeyPath, lines: dict[KeyPath, int]) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def dotted(path: KeyPath) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not _PLAIN_KEY.fullmatch(part):
            text += f"[{part!r}]"
        else:
            text += f".{part}" if text else part
    return text
