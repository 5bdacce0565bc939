"""docs/reference/settings.md: every setting of every process, from the settings classes.

The classes are the one place that lists what a process reads (CONTRIBUTING, "Add a setting"):
each field is an environment variable, its type, its default and its `description`. A group per
class, in the order the processes are listed (common settings first), variables sorted in each.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

from pydantic import Secret, SecretStr
from pydantic.fields import FieldInfo

from common.config import CommonSettings
from common.processes import SERVICES
from common.settings import Settings, is_secret, kinds_of, rules_of

PAGE = "docs/reference/settings.md"
SOURCE = "the settings classes (common/config.py, gateway/config.py, svc_*/config.py, RunSettings)"
RUN = "ticketing run"
# The order the page names the processes in.
ORDER = (
    "gateway",
    "auth",
    "tickets",
    "orders",
    "payments",
    "expiration",
    "insights",
    "catalogue",
    "delivery",
    "notifications",
    RUN,
)


def readers() -> dict[str, type[Settings]]:
    """Each process's settings class, by the process's name (`ticketing run`'s own too)."""
    from common.devstack.run import RunSettings
    from tools.deploy_check.model import settings_class

    classes: dict[str, type[Settings]] = {s.name: settings_class(s) for s in SERVICES}
    classes[RUN] = RunSettings
    return {name: classes[name] for name in sorted(classes, key=_order)}


def _order(process: str) -> tuple[int, str]:
    return (ORDER.index(process) if process in ORDER else len(ORDER), process)


def type_of(name: str, field: FieldInfo, fields: Mapping[str, FieldInfo]) -> str:
    if name.endswith("_file") and name.removesuffix("_file") in fields:
        return "path of a file"
    kinds = [k for k in kinds_of(field.annotation) if k is not type(None)]
    kind = kinds[0] if kinds else field.annotation
    if isinstance(kind, type) and issubclass(kind, SecretStr):
        return "secret"
    if isinstance(kind, type) and issubclass(kind, Secret):
        return "URL (secret: its password)"
    if typing.get_origin(kind) is tuple:
        item = typing.get_args(kind)[0]
        return "integers, comma-separated" if item is int else "list, comma-separated"
    names = {bool: "boolean", int: "integer", float: "number", str: "text"}
    return names.get(kind, getattr(kind, "__name__", str(kind)))


def default_of(name: str, field: FieldInfo) -> str:
    if is_secret(field):
        return "(secret)"
    if field.is_required():
        return "required"
    value: Any = field.default
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    if isinstance(value, tuple):
        return f"`{','.join(map(str, value))}`" if value else "none"
    return f"`{value}`"


def _cell(text: str) -> str:
    """Text for a table cell: `|` escaped, and `<...>` outside code spans (not HTML)."""
    parts = text.replace("|", "\\|").replace("\n", " ").split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts)


def describe(name: str, field: FieldInfo, fields: Mapping[str, FieldInfo]) -> str:
    text = (field.description or "").strip()
    if f"{name}_file" in fields:
        text += f" Or `{name.upper()}_FILE`."
    for reason in rules_of(field):
        text += f" {reason[0].upper()}{reason[1:]}."
    return _cell(text)


def render(classes: Mapping[str, type[Settings]] | None = None) -> str:
    classes = readers() if classes is None else classes
    # Each variable once, in the group of the first class (in process order) that has it.
    groups: dict[str, dict[str, tuple[FieldInfo, Mapping[str, FieldInfo]]]] = {}
    read_by: dict[str, list[str]] = {}
    for process, cls in classes.items():
        fields = cls.model_fields
        for name, field in fields.items():
            read_by.setdefault(name, []).append(process)
            # `ticketing run` reads CommonSettings too (the namespace, the ports it claims).
            group = "common" if name in CommonSettings.model_fields else process
            if not any(name in rows for rows in groups.values()):
                groups.setdefault(group, {})[name] = (field, fields)
    lines = [
        "# Settings",
        "",
        "Every setting of every process: an environment variable each, read once when the process "
        "starts. A bad value stops the process with an error naming the variable. A secret "
        "never prints (logs, errors, `repr`): it shows as `**********`, a URL's password too. "
        "A secret may be given inline or, with `_FILE` after its name, as a file (a mounted "
        "Kubernetes Secret), read at start.",
        "",
        'To add one, see CONTRIBUTING.md ("Add a setting"): a field of the process\'s '
        "settings class, with its description, is all this page needs.",
        "",
    ]
    for group, rows in groups.items():
        if group == "common":
            title = "Every process"
            intro = (
                "`CommonSettings` (common/config.py): read by every process ("
                + ", ".join(_who(p) for p in classes)
                + ")."
            )
        else:
            cls = classes[group]
            title = _who(group)
            intro = f"`{cls.__name__}` ({cls.__module__.replace('.', '/')}.py)."
        lines += [f"## {title}", "", intro, ""]
        lines += [
            "| Variable | Type | Default | Read by | Description |",
            "|---|---|---|---|---|",
        ]
        for name in sorted(rows):
            field, fields = rows[name]
            who = (
                "every process" if group == "common" else ", ".join(_who(p) for p in read_by[name])
            )
            cells = (
                f"`{name.upper()}`",
                type_of(name, field, fields),
                default_of(name, field),
                who,
                describe(name, field, fields),
            )
            lines.append(f"| {' | '.join(cells)} |")
        lines.append("")
    return "\n".join(lines)


def _who(process: str) -> str:
    if process == RUN:
        return f"`{RUN}`"
    return process
