"""A Grafana dashboard held against Grafana's own dashboard models: grafana-foundation-sdk (the
Python code Grafana generates from its schemas, with every panel and data-query plugin it ships).

Two checks, each of which Grafana's JSON schema makes too:
- every key is one the models know, with its value intact: decoding and encoding again through
  the models drops what they do not know (a misspelt `fieldconfig`, `legendformat`), so anything
  of the file missing from the round trip is reported;
- every value has the type the models declare (an integer `gridPos.h`, a string `expr`, an enum's
  value), walking the decoded objects against their type hints.
"""

from __future__ import annotations

import enum
import json
import types
import typing
from collections.abc import Iterator
from typing import Any

from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard

register_default_plugins()


def dashboard_problems(data: dict[str, Any]) -> list[str]:
    try:
        model = Dashboard.from_json(data)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        return [f"$: not a dashboard Grafana's models can read: {exc!r}"]
    encoded = json.loads(json.dumps(model, cls=JSONEncoder))
    return [*_lost(data, encoded, "$"), *_mistyped(model, "$")]


def _lost(original: Any, encoded: Any, path: str) -> Iterator[str]:
    if isinstance(original, dict):
        if not isinstance(encoded, dict):
            yield f"{path}: an object where Grafana's models have {type(encoded).__name__}"
            return
        for key, value in original.items():
            if key not in encoded:
                yield f"{path}.{key}: not a field Grafana's models know"
            else:
                yield from _lost(value, encoded[key], f"{path}.{key}")
    elif isinstance(original, list):
        if not isinstance(encoded, list) or len(encoded) != len(original):
            yield f"{path}: a list Grafana's models do not read as one"
            return
        for i, (a, b) in enumerate(zip(original, encoded, strict=True)):
            yield from _lost(a, b, f"{path}[{i}]")
    elif original != encoded:
        yield f"{path}: {original!r} comes back as {encoded!r}"


def _mistyped(obj: Any, path: str) -> Iterator[str]:
    """The decoded objects' attributes against the models' type hints."""
    if not hasattr(obj, "to_json") or isinstance(obj, enum.Enum):
        return
    try:
        hints = typing.get_type_hints(type(obj))
    except Exception:  # a model whose hints do not resolve: its values are not checked
        return
    for name, hint in hints.items():
        if name.startswith("_") or not hasattr(obj, name):
            continue
        value = getattr(obj, name)
        where = f"{path}.{name}"
        if not _fits(value, hint):
            yield f"{where}: {value!r} is not {_describe(hint)}"
        else:
            yield from _walk(value, where)


def _walk(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")
    else:
        yield from _mistyped(value, path)


def _fits(value: Any, hint: Any) -> bool:
    if hint is Any or hint is object:
        return True
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arm) for arm in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        return isinstance(value, list) and all(_fits(v, item) for v in value)
    if origin is dict:
        _key, item = typing.get_args(hint) or (Any, Any)
        return isinstance(value, dict) and all(_fits(v, item) for v in value.values())
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return isinstance(value, hint) or value in {m.value for m in hint}
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True  # a construct this check does not know (TypeVar, Callable): not judged


def _describe(hint: Any) -> str:
    return hint.__name__ if isinstance(hint, type) else str(hint).replace("typing.", "")
