"""Integer parameters bounded where they enter: every whole number a route takes from the path, the
query or a form fits the 64-bit columns it is compared with, so 2^63 answers 422 instead of an
OverflowError (SQLite) or `bigint out of range` (PostgreSQL) deep in a query.

Routes use the shared types below; `assert_every_integer_bounded` refuses to start the application
when any route takes an integer without such bounds, so a new route cannot forget."""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any

import annotated_types
from fastapi import Form, Path, Query
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from tipline.domain.numbers import INT64_MAX, INT64_MIN

Id = Annotated[int, Path(ge=1, le=INT64_MAX, description="A row's number (1 to 2^63-1)")]
"""A report, referral or bank entry number in the path."""
Offset = Annotated[int, Query(ge=0, le=INT64_MAX)]
Version = Annotated[int | None, Form(ge=0, le=INT64_MAX)]
"""The report version a form was drawn from (optimistic locking)."""


def _unbounded(annotation: Any, metadata: list[Any]) -> bool:
    """True when `annotation` admits an integer outside 64 bits under these constraints: a plain int
    needs ge/le (or gt/lt) inside the range; the elements of a list need their own."""
    if annotation is int:
        return not _bounded(metadata)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        extra = [part for item in args[1:] for part in (item.metadata if isinstance(item, FieldInfo) else [item])]
        return _unbounded(args[0], metadata + extra)
    if origin in (typing.Union, types.UnionType):
        return any(_unbounded(arg, metadata) for arg in args)
    if origin in (list, tuple, set, frozenset):
        return any(_unbounded(arg, []) for arg in args if arg is not Ellipsis)
    return False


def _bounded(metadata: list[Any]) -> bool:
    """True when the constraints keep the value inside [INT64_MIN, INT64_MAX]."""
    upper = lower = False
    for item in metadata:
        if isinstance(item, annotated_types.Le):
            upper = upper or item.le <= INT64_MAX
        elif isinstance(item, annotated_types.Lt):
            upper = upper or bool(item.lt <= INT64_MAX + 1)  # type: ignore[operator]  # annotated_types types the bound loosely (SupportsLt)
        elif isinstance(item, annotated_types.Ge):
            lower = lower or item.ge >= INT64_MIN
        elif isinstance(item, annotated_types.Gt):
            lower = lower or bool(item.gt >= INT64_MIN - 1)  # type: ignore[operator]  # annotated_types types the bound loosely (SupportsGt)
    return upper and lower


def _model_problems(model: type[BaseModel], where: str, seen: set[type]) -> list[str]:
    if model in seen:
        return []
    seen.add(model)
    problems = []
    for name, field in model.model_fields.items():
        if _unbounded(field.annotation, list(field.metadata)):
            problems.append(f"{where}.{name}")
        for arg in _nested_models(field.annotation):
            problems += _model_problems(arg, f"{where}.{name}", seen)
    return problems


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _nested_models(arg)]


def unbounded_integers(routes: list[Any]) -> list[str]:
    """'METHOD path: parameter' for every integer a route takes without bounds inside 64 bits."""
    from tipline.web.auth import leaf_routes

    problems: list[str] = []
    for route in leaf_routes(routes):
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        label = f"{'/'.join(sorted(getattr(route, 'methods', None) or []))} {route.path}"
        stack = [dependant]
        while stack:
            current = stack.pop()
            stack.extend(current.dependencies)
            for param in (current.path_params + current.query_params + current.header_params
                          + current.cookie_params + current.body_params):
                info = param.field_info
                if _unbounded(info.annotation, list(info.metadata)):
                    problems.append(f"{label}: {param.name}")
                for model in _nested_models(info.annotation):
                    problems += [f"{label}: {p}" for p in _model_problems(model, param.name, set())]
    return problems


def assert_every_integer_bounded(routes: list[Any]) -> None:
    """Refuse to start if any route takes an integer that could overflow the database's 64 bits."""
    problems = unbounded_integers(routes)
    if problems:
        raise RuntimeError("integer parameters without 64-bit bounds (use tipline.web.params.Id and friends, "
                           f"or Query/Path/Form(ge=..., le=...)): {', '.join(sorted(set(problems)))}")
