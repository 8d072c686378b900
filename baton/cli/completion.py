"""``baton completion bash|zsh|fish``: shell completion, answered by baton itself.

Each script is a few lines that call ``baton __complete WORD...`` with the words typed so far
(the last one being completed) and offer what it prints, one candidate a line. Commands and
flags come from the argument parser, so new ones complete without touching this module;
values come from where they live: setting keys from :mod:`baton.settings`, application names
from the manifest (``-f`` or ./baton.yml), deploy ids from the history in the state directory.
A single line ``:files`` asks the shell to complete a path.

A candidate is inserted into the command line the operator then runs, so an application name
that the manifest could not hold (``shop$(touch PWNED)``) is never offered, and each script
quotes what it inserts all the same (bash by ``printf %q``; zsh's ``compadd`` and fish quote
by themselves).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from baton.cli.common import Commands, add_command

FILES = ":files"
SHELLS = ("bash", "zsh", "fish")
PATH_WORDS = ("DIR", "FILE", "MANIFEST", "SOCKET")
"""A value whose metavar has one of these words completes as a path."""

BASH = """\
# bash completion for baton. Install:
#   baton completion bash > ~/.local/share/bash-completion/completions/baton
_baton() {
    local candidates
    candidates=$(command baton __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
    if [[ $candidates == ":files" ]]; then
        compopt -o default 2>/dev/null
        COMPREPLY=()
    elif [[ -n $candidates ]]; then
        mapfile -t COMPREPLY <<< "$candidates"
        local i
        for i in "${!COMPREPLY[@]}"; do
            printf -v 'COMPREPLY[i]' '%q' "${COMPREPLY[i]}"
        done
    else
        COMPREPLY=()
    fi
}
complete -F _baton baton
"""
ZSH = """\
#compdef baton
# zsh completion for baton. Install: baton completion zsh > "${fpath[1]}/_baton"
_baton() {
    local -a candidates
    candidates=("${(@f)$(command baton __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    if [[ ${candidates[1]} == ":files" ]]; then
        _files
    else
        compadd -- ${candidates:#}
    fi
}
if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
    _baton "$@"
else
    compdef _baton baton
fi
"""
FISH = """\
# fish completion for baton. Install: baton completion fish > ~/.config/fish/completions/baton.fish
function __baton_complete
    set -l words (commandline -opc)
    set -e words[1]
    set -l candidates (command baton __complete $words (commandline -ct) 2>/dev/null)
    if test "$candidates[1]" = ":files"
        __fish_complete_path (commandline -ct)
    else
        printf '%s\\n' $candidates
    end
end
complete -c baton -f -a '(__baton_complete)'
"""
SCRIPTS = {"bash": BASH, "zsh": ZSH, "fish": FISH}


def register_completion(commands: Commands) -> None:
    parser = add_command(
        commands,
        "completion",
        "print a shell completion script",
        print_script,
        description="Print the completion script for a shell: commands, flags, setting keys, "
        "application names from the manifest and deploy ids from history.",
        epilog="install:\n"
        "  bash: baton completion bash > ~/.local/share/bash-completion/completions/baton\n"
        '  zsh:  baton completion zsh > "${fpath[1]}/_baton"   (or: source <(baton completion'
        " zsh) after compinit)\n"
        "  fish: baton completion fish > ~/.config/fish/completions/baton.fish",
    )
    parser.add_argument("shell", choices=SHELLS)


def print_script(args: argparse.Namespace) -> int:
    print(SCRIPTS[args.shell], end="")
    return 0


def complete(parser: argparse.ArgumentParser, words: list[str]) -> int:
    """Print the candidates for the last of ``words`` (the words after ``baton``)."""
    for candidate in candidates(parser, words):
        print(candidate)
    return 0


@dataclass
class _Position:
    """Where the words typed so far leave the parser."""

    parser: argparse.ArgumentParser
    pending: argparse.Action | None = None
    """An option still waiting for its value."""
    values: dict[str, str] = field(default_factory=dict)
    positionals: int = 0


def candidates(parser: argparse.ArgumentParser, words: list[str]) -> list[str]:
    *typed, current = words or [""]
    position = _walk(parser, typed)
    if position.pending is not None:
        found = _values(position.pending, position.values)
    elif current.startswith("-"):
        found = list(_options(position.parser))
    elif commands := _commands(position.parser):
        found = commands
    elif positional := _positional(position.parser, position.positionals):
        found = _values(positional, position.values)
    else:
        found = list(_options(position.parser))
    if found == [FILES]:
        return found
    return [c for c in found if c.startswith(current)]


def _walk(parser: argparse.ArgumentParser, words: list[str]) -> _Position:
    position = _Position(parser)
    for word in words:
        if position.pending is not None:
            position.values[position.pending.dest] = word
            position.pending = None
        elif word.startswith("-") and word != "-":
            action = position.parser._option_string_actions.get(word.split("=", 1)[0])
            if action is not None and action.nargs != 0 and "=" not in word:
                position.pending = action
        elif (sub := _subparsers(position.parser)) and word in sub.choices:
            position = _Position(sub.choices[word], values=position.values)
        else:
            positional = _positional(position.parser, position.positionals)
            if positional is not None:
                position.values[positional.dest] = word
            position.positionals += 1
    return position


def _subparsers(
    parser: argparse.ArgumentParser,
) -> argparse._SubParsersAction[argparse.ArgumentParser] | None:
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    sub = _subparsers(parser)
    return [name for name in sub.choices if not name.startswith("_")] if sub else []


def _options(parser: argparse.ArgumentParser) -> Iterator[str]:
    for action in parser._actions:
        yield from (o for o in action.option_strings if o.startswith("--"))


def _positional(parser: argparse.ArgumentParser, index: int) -> argparse.Action | None:
    positionals = [
        a
        for a in parser._actions
        if not a.option_strings and not isinstance(a, argparse._SubParsersAction)
    ]
    return positionals[index] if index < len(positionals) else None


def _values(action: argparse.Action, values: dict[str, str]) -> list[str]:
    """What the value of ``action`` can be."""
    if action.choices is not None:
        return [str(c) for c in action.choices]
    if action.dest == "key":
        from baton.settings import SPECS

        return list(SPECS)
    if action.dest == "value":
        from baton.settings import SPECS, parse_bool

        spec = SPECS.get(values.get("key", ""))
        return ["true", "false"] if spec is not None and spec.parse is parse_bool else []
    if action.dest == "app":
        return _applications(Path(values.get("file", "baton.yml")))
    if action.dest in ("deploy_id", "to"):
        return _deploy_ids(values)
    return [FILES] if action.type is Path or _names_a_path(action.metavar) else []


def _names_a_path(metavar: object) -> bool:
    return isinstance(metavar, str) and any(w in metavar for w in PATH_WORDS)


def _applications(manifest: Path) -> list[str]:
    """The application the manifest describes, read without validating the rest of it, when
    its name is one the manifest may hold."""
    import yaml

    from baton.config.values import NAME_LENGTH, NAME_PATTERN

    try:
        data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return []
    name = data.get("application") if isinstance(data, dict) else None
    if not isinstance(name, str) or len(name) > NAME_LENGTH:
        return []
    return [name] if re.fullmatch(NAME_PATTERN, name) else []


def _deploy_ids(values: dict[str, str]) -> list[str]:
    """Recent deploy ids (of ``-s APP`` when given), newest first; nothing without state."""
    from baton.cli.common import existing_store

    store = existing_store(values.get("state"))
    if store is None:
        return []
    try:
        return [str(r.id) for r in store.deploys(values.get("app"), limit=20)]
    finally:
        store.close()
