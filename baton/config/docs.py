"""Each key's description: the docstring written under its field in :mod:`baton.config.model`.

Read from the source when asked (``baton schema``, ``baton init``), not when the models are
imported, so that every other command starts without parsing model.py.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import textwrap
import typing
from typing import Any

from baton.config.validation import Frozen, expand, is_model, keys, per_model


@per_model
def field_docs(model: type[Frozen]) -> dict[str, str]:
    """Field name -> its docstring on one line, inherited fields included."""
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if is_model(cls) and cls is not Frozen:
            docs |= _class_docs(cls)
    return docs


def _class_docs(cls: type) -> dict[str, str]:
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError, SyntaxError):
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    docs = {}
    for node, following in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[node.target.id] = " ".join(following.value.value.split())
    return docs


def reachable_models(root: type[Frozen]) -> dict[str, type[Frozen]]:
    """``root`` and every model its fields hold, however deep, by class name."""
    found: dict[str, type[Frozen]] = {}
    pending = [root]
    while pending:
        model = pending.pop()
        if model.__name__ in found:
            continue
        found[model.__name__] = model
        for key in keys(model).values():
            pending += _models_inside(key.annotation)
    return found


def _models_inside(annotation: Any) -> list[type[Frozen]]:
    annotation = expand(annotation)
    if is_model(annotation):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_inside(arg)]
