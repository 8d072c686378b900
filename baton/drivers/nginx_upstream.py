"""An upstream block of an nginx configuration file, read the way nginx reads it.

The text is split into nginx's tokens first (words, quoted strings, ``;``, ``{``, ``}``, and
``#`` comments that run from a ``#`` starting a token to the end of the line), so a comment or
a string that mentions ``server`` is never taken for a server line. A change edits the text
in place, adding or removing one ``down`` parameter, so comments, spacing and every other
member stay exactly as the operator wrote them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

_SEPARATORS = ";{}"


@dataclass(frozen=True)
class Token:
    """One word, quoted string or separator, with where it is in the text."""

    text: str
    start: int
    end: int

    @property
    def value(self) -> str:
        """What nginx sees: quotes removed, backslash escapes resolved."""
        text = self.text[1:-1] if self.text[:1] in "\"'" and len(self.text) > 1 else self.text
        out, escaped = [], False
        for char in text:
            if escaped or char != "\\":
                out.append(char)
            escaped = not escaped and char == "\\"
        return "".join(out)


def tokens(text: str) -> Iterator[Token]:
    """nginx's tokens of ``text``, comments and spaces left out."""
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
        elif char == "#":
            newline = text.find("\n", position)
            position = len(text) if newline < 0 else newline
        else:
            end = _token_end(text, position)
            yield Token(text[position:end], position, end)
            position = end


def _token_end(text: str, start: int) -> int:
    """Where the token starting at ``start`` ends (a backslash escapes the next character)."""
    char = text[start]
    if char in _SEPARATORS:
        return start + 1
    quote = char if char in "\"'" else None
    position = start + 1 if quote else start
    while position < len(text):
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if quote and char == quote:
            return position + 1
        if not quote and (char.isspace() or char in _SEPARATORS):
            return position
        position += 1
    return len(text)


@dataclass(frozen=True)
class Member:
    """One ``server`` line of the upstream."""

    name: str
    last: Token
    """The line's last word (``down`` is added after it)."""
    down: tuple[Token, ...]
    """Its ``down`` parameters (normally none or one)."""


@dataclass(frozen=True)
class Upstream:
    """The upstream block of a file's text: its members and each one's ``down`` mark."""

    text: str
    members: tuple[Member, ...]

    @property
    def down(self) -> dict[str, bool]:
        return {member.name: bool(member.down) for member in self.members}

    def with_mark(self, member: str, down: bool) -> str:
        """The file's text with ``member`` marked down (or not); everything else untouched."""
        edits: list[tuple[int, int, str]] = []
        for line in self.members:
            if line.name != member:
                continue
            if down and not line.down:
                edits.append((line.last.end, line.last.end, " down"))
            for word in () if down else line.down:
                edits.append((self._blank_before(word.start), word.end, ""))
        text = self.text
        for start, end, replacement in sorted(edits, reverse=True):
            text = text[:start] + replacement + text[end:]
        return text

    def _blank_before(self, position: int) -> int:
        """The start of the spaces and tabs just before ``position`` on its line."""
        while position > 0 and self.text[position - 1] in " \t":
            position -= 1
        return position


def parse_upstream(text: str, name: str) -> Upstream | None:
    """The upstream called ``name`` in ``text``, or None when there is none."""
    statement: list[Token] = []
    depth, inside = 0, None
    members: list[Member] = []
    for token in tokens(text):
        if token.text == "{":
            depth += 1
            if inside is None and [t.value for t in statement] == ["upstream", name]:
                inside = depth
        elif token.text == "}":
            if inside == depth:
                return Upstream(text, tuple(members))
            depth -= 1
        elif token.text == ";":
            if inside == depth and len(statement) >= 2 and statement[0].value == "server":
                members.append(_member(statement))
        else:
            statement.append(token)
            continue
        statement = []
    return None


def _member(statement: list[Token]) -> Member:
    """``server ADDRESS [PARAMETERS...]`` as a member."""
    down = tuple(word for word in statement[2:] if word.value == "down")
    return Member(statement[1].value, statement[-1], down)
