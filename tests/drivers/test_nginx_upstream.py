"""Reading and editing an upstream block the way nginx reads it: comments and quoted strings
that mention ``server`` are never taken for server lines, and an edit changes one member's
``down`` mark and nothing else (no server needed)."""

from __future__ import annotations

import pytest

from baton.drivers.nginx import parse_upstream

COMMENTED = """\
# server 10.0.0.9:8000 was retired; upstream old { server 10.0.0.9:8000; }
upstream app {  # server 10.0.0.8:8000 is not here
    # this server is flaky
    server 10.0.0.1:8000 weight=2;  # server 10.0.0.1:8000 down; once
    # server 10.0.0.3:8000 is on the old rack
    server 10.0.0.3:8000 max_fails=3;
    server "10.0.0.4:8000" down; # quoted, and down
    server 10.0.0.5:8000 # a comment before the end;
        ;
}
# after the block: server 10.0.0.1:8000;
upstream other { server 10.0.0.1:8000; }
"""


def members(text: str) -> dict[str, bool]:
    upstream = parse_upstream(text, "app")
    assert upstream is not None
    return upstream.down


def test_comments_and_strings_that_mention_server_are_not_members() -> None:
    assert members(COMMENTED) == {
        "10.0.0.1:8000": False,
        "10.0.0.3:8000": False,
        "10.0.0.4:8000": True,
        "10.0.0.5:8000": False,
    }
    assert parse_upstream(COMMENTED, "old") is None  # only inside a comment


MARKED = {
    "10.0.0.1:8000": (
        "    server 10.0.0.1:8000 weight=2;  # server 10.0.0.1:8000 down; once",
        "    server 10.0.0.1:8000 weight=2 down;  # server 10.0.0.1:8000 down; once",
    ),
    "10.0.0.3:8000": (
        "    server 10.0.0.3:8000 max_fails=3;",
        "    server 10.0.0.3:8000 max_fails=3 down;",
    ),
    "10.0.0.5:8000": (
        "    server 10.0.0.5:8000 # a comment before the end;",
        "    server 10.0.0.5:8000 down # a comment before the end;",
    ),
}


@pytest.mark.parametrize("member", sorted(MARKED))
def test_marking_one_member_changes_its_line_only_and_unmarking_restores_the_file(
    member: str,
) -> None:
    upstream = parse_upstream(COMMENTED, "app")
    assert upstream is not None
    marked = upstream.with_mark(member, down=True)
    assert marked == COMMENTED.replace(*MARKED[member])
    assert members(marked) == members(COMMENTED) | {member: True}
    back = parse_upstream(marked, "app")
    assert back is not None and back.with_mark(member, down=False) == COMMENTED


def test_the_two_comments_from_issue_21_leave_every_member_changeable() -> None:
    text = (
        "upstream app {\n"
        "    # this server is flaky\n"
        "    server 10.0.0.2:8000;\n"
        "    # server 10.0.0.3:8000 is on the old rack\n"
        "    server 10.0.0.3:8000;\n"
        "}\n"
    )
    upstream = parse_upstream(text, "app")
    assert upstream is not None
    assert upstream.down == {"10.0.0.2:8000": False, "10.0.0.3:8000": False}
    out = upstream.with_mark("10.0.0.3:8000", down=True)
    assert out == text.replace("server 10.0.0.3:8000;", "server 10.0.0.3:8000 down;")
    flaky = upstream.with_mark("10.0.0.2:8000", down=True)
    assert flaky == text.replace("server 10.0.0.2:8000;", "server 10.0.0.2:8000 down;")
    again = parse_upstream(flaky, "app")
    assert again is not None and again.down["10.0.0.2:8000"] is True
    assert again.with_mark("10.0.0.2:8000", down=False) == text


def test_a_quoted_member_is_unmarked_and_its_comment_kept() -> None:
    upstream = parse_upstream(COMMENTED, "app")
    assert upstream is not None
    assert upstream.with_mark("10.0.0.4:8000", down=False) == COMMENTED.replace(
        'server "10.0.0.4:8000" down; # quoted', 'server "10.0.0.4:8000"; # quoted'
    )
