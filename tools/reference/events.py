"""docs/reference/events.md: every integration event, from the protos and the code that sends and
receives it.

- The catalogue is `common.events` (every message of proto/ticketing/events/v1 with a
  `routing_key` option), the one the bus uses; the fields' types and JSON names come from the
  generated descriptors, their comments from the .proto sources (compiled here with
  `--include_source_info`, which gen/ leaves out).
- Publishers and consumers are read from the processes' source (tools/reference/_code.py):
  a process publishes an event its code constructs (`orders_pb2.OrderCreated(...)`); it consumes
  an event its code hands to the bus otherwise (a key of its consumer's handler map, a
  subscription topic's event, or the whole catalogue through `events.all_events()`), counting
  no type annotation and nothing in `domain/` or `adapters/`, where a service writes its own.
- "Breaking-checked" is buf.yaml's `breaking` section applied to the event's file
  (tools/buf-breaking.sh, `make lint-deploy`, compares with the previous commit).
"""

from __future__ import annotations

import ast
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from common import events
from common.bus.topology import exchange_name
from tools.reference import ROOT, _code

PAGE = "docs/reference/events.md"
SOURCE = "proto/ticketing/events/v1 and the processes' code (tools/reference/events.py)"

EVENTS_PROTO_DIR = "ticketing/events/v1"
NAMESPACE = "<ns>"  # TICKETING_NAMESPACE, as the page writes it

_SCALARS = {
    FieldDescriptor.TYPE_DOUBLE: "double",
    FieldDescriptor.TYPE_FLOAT: "float",
    FieldDescriptor.TYPE_INT64: "int64",
    FieldDescriptor.TYPE_UINT64: "uint64",
    FieldDescriptor.TYPE_INT32: "int32",
    FieldDescriptor.TYPE_FIXED64: "fixed64",
    FieldDescriptor.TYPE_FIXED32: "fixed32",
    FieldDescriptor.TYPE_BOOL: "bool",
    FieldDescriptor.TYPE_STRING: "string",
    FieldDescriptor.TYPE_BYTES: "bytes",
    FieldDescriptor.TYPE_UINT32: "uint32",
    FieldDescriptor.TYPE_SFIXED32: "sfixed32",
    FieldDescriptor.TYPE_SFIXED64: "sfixed64",
    FieldDescriptor.TYPE_SINT32: "sint32",
    FieldDescriptor.TYPE_SINT64: "sint64",
}


# ---------------------------------------------------------------- comments from the .proto files


def proto_comments(root: Path | None = None) -> dict[str, str]:
    """Full name of every message and field of the event protos -> its comment (leading, else
    trailing), read from the sources as protoc records them."""
    import grpc_tools
    from grpc_tools import protoc

    proto_dir = (root or ROOT) / "proto"
    files = sorted(p.relative_to(proto_dir) for p in (proto_dir / EVENTS_PROTO_DIR).glob("*.proto"))
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "events.binpb"
        args = ["grpc_tools.protoc", f"-I{proto_dir}", f"-I{well_known}", "--include_source_info"]
        if protoc.main([*args, f"--descriptor_set_out={out}", *map(str, files)]) != 0:
            raise SystemExit(f"protoc failed on {proto_dir / EVENTS_PROTO_DIR}")
        fds = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    comments: dict[str, str] = {}
    for file in fds.file:
        by_path = {tuple(loc.path): loc for loc in file.source_code_info.location}
        _collect(file.message_type, file.package, (4,), by_path, comments)
        # What a file says of all its messages: the comments standing apart, before the first.
        detached = [c for loc in by_path.values() for c in loc.leading_detached_comments]
        comments[file_key(file.name)] = " ".join(_flat(c) for c in detached)
    return comments


def file_key(proto_file: str) -> str:
    """The key of a file's own comment in `proto_comments()` (e.g. ticketing/events/v1/x.proto)."""
    return f"file:{proto_file}"


def _collect(messages, prefix: str, path: tuple[int, ...], by_path: dict, comments: dict) -> None:
    """Messages are at path (4, i) of their file, their fields at (..., 2, j), the messages
    nested in them at (..., 3, k) (descriptor.proto, SourceCodeInfo)."""
    for i, message in enumerate(messages):
        name = f"{prefix}.{message.name}"
        comments[name] = _comment(by_path.get((*path, i)))
        for j, fld in enumerate(message.field):
            comments[f"{name}.{fld.name}"] = _comment(by_path.get((*path, i, 2, j)))
        _collect(message.nested_type, name, (*path, i, 3), by_path, comments)


def _comment(location: descriptor_pb2.SourceCodeInfo.Location | None) -> str:
    if location is None:
        return ""
    return _flat(location.leading_comments or location.trailing_comments)


def _flat(text: str) -> str:
    return " ".join(line.strip() for line in text.strip().splitlines())


# ---------------------------------------------------------------- who sends and who receives


@dataclass
class Traffic:
    publishers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    consumers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


def traffic(root: Path | None = None) -> Traffic:
    """Event full name -> the processes that publish it and those that consume it."""
    catalogue = {f"{cls.__module__}.{cls.__name__}": events.type_name(cls) for cls in _catalogue()}
    found = Traffic()
    for module in _code.process_modules(root):
        imports = _code.imported_names(module.tree)
        in_annotation = _code.annotation_nodes(module.tree)
        parents = {id(c): p for p in ast.walk(module.tree) for c in ast.iter_child_nodes(p)}
        receiving_side = module.room not in _code.WRITING_ROOMS
        for node in ast.walk(module.tree):
            if not isinstance(node, (ast.Name, ast.Attribute)) or id(node) in in_annotation:
                continue
            parent = parents.get(id(node))
            if isinstance(parent, ast.Attribute):
                continue  # part of a longer name, seen whole at its top
            name = _code.dotted(node, imports)
            called = isinstance(parent, ast.Call) and parent.func is node
            if name == "common.events.all_events" and called and receiving_side:
                for event in catalogue.values():
                    found.consumers[event].add(module.process)
            if name not in catalogue:
                continue
            if called:
                found.publishers[catalogue[name]].add(module.process)
            elif receiving_side:
                found.consumers[catalogue[name]].add(module.process)
    return found


# ---------------------------------------------------------------- the breaking-change check


def breaking_checked(proto_file: str, root: Path | None = None) -> bool:
    """Whether buf.yaml's breaking rules cover `proto_file` (a path under proto/)."""
    config = yaml.safe_load(((root or ROOT) / "buf.yaml").read_text())
    breaking = config.get("breaking") or {}
    if not breaking.get("use"):
        return False
    ignored = [str(p).rstrip("/") for p in breaking.get("ignore") or []]
    return not any(proto_file == p or proto_file.startswith(f"{p}/") for p in ignored)


# ---------------------------------------------------------------- the page


def _catalogue() -> list[type]:
    return sorted(events.all_events(), key=events.routing_key)


def _cell(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace("|", "\\|") or " "


def _names(processes: set[str]) -> str:
    return ", ".join(sorted(processes)) or "—"


def _type(fld: FieldDescriptor) -> str:
    if fld.message_type is not None:
        kind = f"`{fld.message_type.full_name}`"
    elif fld.enum_type is not None:
        values = ", ".join(v.name for v in fld.enum_type.values)
        kind = f"`{fld.enum_type.full_name}` ({values})"
    else:
        kind = f"`{_SCALARS[fld.type]}`"
    return f"repeated {kind}" if fld.is_repeated else kind


def _fields(message: Descriptor, comments: dict[str, str], heading: str) -> list[str]:
    lines = [heading, ""]
    if comments.get(message.full_name) and heading.startswith("####"):
        lines += [_cell(comments[message.full_name]), ""]
    if not message.fields:
        lines += ["No fields.", ""]
    else:
        lines += ["| # | field | JSON | type | meaning |", "|---|---|---|---|---|"]
        for fld in sorted(message.fields, key=lambda f: f.number):
            comment = comments.get(f"{message.full_name}.{fld.name}", "")
            lines.append(
                f"| {fld.number} | `{fld.name}` | `{fld.json_name}` | {_type(fld)} "
                f"| {_cell(comment)} |"
            )
        lines.append("")
    for nested in sorted(message.nested_types, key=lambda m: m.name):
        lines += _fields(nested, comments, f"#### {message.name}.{nested.name}")
    return lines


def render() -> str:
    comments = proto_comments()
    sent = traffic()
    exchange = exchange_name(NAMESPACE)
    lines = [
        "# Events",
        "",
        "Every integration event the services exchange. Each is a protobuf message of "
        "`proto/ticketing/events/v1/`, published as canonical proto3 JSON (the JSON names "
        f"below, default values left out) on the topic exchange `{exchange}` (`<ns>` is "
        "`TICKETING_NAMESPACE`) under its routing key, through the publisher's outbox (the "
        "gateway's behaviour events through its Redis stream). Each consuming service has its "
        "own queue, `<ns>.<service>`, bound to the routing keys it handles. To add one: "
        "CONTRIBUTING.md, *Add an event*.",
        "",
        "How this page knows who publishes and who consumes: it reads the processes' code "
        "(`tools/reference/events.py`). A process publishes the events its code constructs; it "
        "consumes those it hands to its event consumer or its subscriptions (insights binds the "
        "whole catalogue).",
        "",
        "*Breaking-checked*: `buf breaking` (FILE rules, against the previous commit, in "
        "`make lint-deploy`) fails on a removed, renamed or renumbered field or message of the "
        "event's file. Adding a field is safe; consumers ignore fields they do not know.",
        "",
        "| event | routing key | published by | consumed by | breaking-checked |",
        "|---|---|---|---|---|",
    ]
    sections: list[str] = []
    for cls in _catalogue():
        message: Descriptor = cls.DESCRIPTOR
        full_name = message.full_name
        proto_file = message.file.name
        checked = "yes" if breaking_checked(proto_file) else "no"
        publishers = _names(sent.publishers.get(full_name, set()))
        consumers = _names(sent.consumers.get(full_name, set()))
        anchor = message.name.lower()
        lines.append(
            f"| [{message.name}](#{anchor}) | `{events.routing_key(cls)}` | {publishers} "
            f"| {consumers} | {checked} |"
        )
        sections += [
            f"## {message.name}",
            "",
            _cell(comments.get(full_name, "")),
            "",
            f"- type: `{full_name}` (`proto/{proto_file}`)",
            f"- routing key: `{events.routing_key(cls)}` on `{exchange}`",
            f"- published by: {publishers}",
            f"- consumed by: {consumers}",
            f"- breaking-checked: {checked}",
            "",
        ]
        sections += _fields(message, comments, "### Fields")
    return "\n".join([*lines, "", *sections]).rstrip() + "\n"
