"""How the manifest's models are validated: by pydantic, which is imported only to validate.

The models (:mod:`baton.config.model`) are frozen standard-library dataclasses. pydantic
validates a manifest into them (strict, unknown keys refused) and writes their JSON Schema, but
defining them needs no pydantic: each constraint is a :class:`Check` that names the pydantic
metadata it stands for, made when pydantic builds a validator. A deploy whose manifest
:mod:`baton.config.cache` remembers therefore never imports pydantic, a fifth of the CPU a
10-server deploy costs (BENCHMARKS.md, "Start-up").
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeGuard, TypeVar

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler, TypeAdapter
    from pydantic_core import CoreSchema

T = TypeVar("T")
R = TypeVar("R")


class Check:
    """A constraint as pydantic metadata, made when pydantic validates: ``Check("Field", ge=1)``
    is ``pydantic.Field(ge=1)``; a dotted name reaches into a pydantic module
    (``Check("json_schema.SkipJsonSchema")``)."""

    def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.name, self.args, self.kwargs = name, args, kwargs

    def __repr__(self) -> str:
        return f"Check({self.name!r}, *{self.args!r}, **{self.kwargs!r})"

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        import importlib

        module, _, name = f"pydantic.{self.name}".rpartition(".")
        metadata = getattr(importlib.import_module(module), name)(*self.args, **self.kwargs)
        return handler(typing.Annotated[source, metadata])


class Frozen:
    """Every model: a frozen dataclass, validated strictly (no "1" for 1), unknown keys refused.
    The docstring under each field is its description in ``baton schema`` and in the comments
    ``baton init`` writes."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"strict": True, "extra": "forbid"}
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]  # each subclass's own

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """The dataclass's schema, taking a mapping of its keys: in strict mode pydantic would
        accept only an instance (its fields stay strict)."""
        schema = handler(source)
        if schema["type"] == "dataclass":
            typing.cast(dict[str, Any], schema)["strict"] = False
        return schema


def validate(model: type[T], data: Any, *, strict: bool | None = None) -> T:
    """``data`` (plain values, as YAML gives them) as a ``model``, or pydantic's
    ValidationError; ``strict=False`` accepts lists for tuples and strings for paths."""
    return typing.cast(T, _adapter(model).validate_python(data, strict=strict))


def json_schema(model: type[Any]) -> dict[str, Any]:
    return _adapter(model).json_schema(mode="validation")


_REMEMBERED: list[dict[type[Any], Any]] = []


def per_model(compute: Callable[[type[Any]], R]) -> Callable[[type[Any]], R]:
    """``compute`` run once per model class, then remembered (``functools.cache``, which mypy
    will not let take a plain class as its argument) until :func:`forget`."""
    results: dict[type[Any], R] = {}
    _REMEMBERED.append(results)

    @functools.wraps(compute)
    def remembered(model: type[Any]) -> R:
        if model not in results:
            results[model] = compute(model)
        return results[model]

    return remembered


def forget() -> None:
    """Drop what :func:`per_model` remembered: the models changed (a kind of load balancer was
    registered), so validators and keys are built again."""
    for results in _REMEMBERED:
        results.clear()


@per_model
def _adapter(model: type[Any]) -> TypeAdapter[Any]:
    from pydantic import TypeAdapter

    return TypeAdapter(model)


@dataclass(frozen=True)
class Key:
    """One key a model takes: what it holds (``Annotated`` stripped) and its default."""

    annotation: Any
    required: bool
    default: Any = None


@per_model
def keys(model: type[Any]) -> dict[str, Key]:
    """The keys of a model class, in order (a field with ``metadata={"key": False}``, set by
    the loader, is not one)."""
    hints = typing.get_type_hints(model, include_extras=True)
    found = {}
    for field in dataclasses.fields(model):
        if not field.metadata.get("key", True):
            continue
        default = field.default
        if field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        required = default is dataclasses.MISSING
        found[field.name] = Key(_strip(hints[field.name]), required, None if required else default)
    return found


def is_model(value: Any) -> TypeGuard[type[Frozen]]:
    """Whether ``value`` is one of the manifest's model classes."""
    return isinstance(value, type) and issubclass(value, Frozen)


def expand(annotation: Any) -> Any:
    """``Annotated[X, m]`` whose metadata ``m`` stands for a union known only at run time (the
    registered load balancer kinds, :class:`baton.balancers.AnyKind`) -> that union; any other
    annotation as it is."""
    if typing.get_origin(annotation) is typing.Annotated:
        for metadata in annotation.__metadata__:
            union = getattr(metadata, "union", None)
            if callable(union):
                return union()
    return annotation


def _strip(annotation: Any) -> Any:
    if typing.get_origin(annotation) is typing.Annotated:
        return typing.get_args(annotation)[0]
    return annotation
