"""How the schema's extensions' hooks are entered on every operation, found once per class.

Strawberry, for each stage of every operation (operation, parse, validate, execute), looks at each
extension's class for the stage's hook, asks `inspect` whether it is a generator function and
wraps it in a new `contextlib.contextmanager` (a `functools.wraps` copy) bound to the instance:
for the gateway's nine extensions, ten hooks, some 40 µs of a search's CPU before any hook ran.
`CachedHooksRunner` does that look-up and wrapping once per extension class and stage; each
operation only binds the instance. The hooks run as before: the same context managers, entered
and left in the same order by Strawberry's own exit stacks. A hook that is a plain function (no
generator) and the stream-result stage are left to Strawberry as they are.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from typing import Any, ClassVar

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner

# What a class's hook for a stage is: none, a generator function (its context-manager factory
# and whether it is async), or anything else (a plain function: Strawberry wraps it per call).
_NONE = (None, False)
_OTHER = ("other", False)


class _CachedHooks(ExtensionContextManagerBase):
    __slots__ = ()
    _kinds: ClassVar[dict[type, tuple[Any, bool]]]

    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        cls = type(extension)
        kind = self._kinds.get(cls)
        if kind is None:
            kind = self._kinds[cls] = self._kind_of(cls)
        factory, is_async = kind
        if factory is None:
            return None
        if factory == "other":
            return super().get_hook(extension)
        return WrappedHook(extension, functools.partial(factory, extension), is_async)

    def _kind_of(self, cls: type) -> tuple[Any, bool]:
        hook: Callable[..., Any] = getattr(cls, self.HOOK_NAME)
        if hook is self.default_hook:
            return _NONE
        if inspect.isgeneratorfunction(hook):
            return contextlib.contextmanager(hook), False
        if inspect.isasyncgenfunction(hook):
            return contextlib.asynccontextmanager(hook), True
        return _OTHER


class _Operation(_CachedHooks, OperationContextManager):
    __slots__ = ()
    _kinds: ClassVar[dict[type, tuple[Any, bool]]] = {}


class _Parsing(_CachedHooks, ParsingContextManager):
    __slots__ = ()
    _kinds: ClassVar[dict[type, tuple[Any, bool]]] = {}


class _Validation(_CachedHooks, ValidationContextManager):
    __slots__ = ()
    _kinds: ClassVar[dict[type, tuple[Any, bool]]] = {}


class _Executing(_CachedHooks, ExecutingContextManager):
    __slots__ = ()
    _kinds: ClassVar[dict[type, tuple[Any, bool]]] = {}


class CachedHooksRunner(SchemaExtensionsRunner):
    """Strawberry's runner of the extensions' hooks, each class's hooks found once."""

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)
