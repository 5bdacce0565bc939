"""The YAML files under k8s/ as written, before kustomize reads them.

A key written twice in one mapping is legal YAML to most parsers, kustomize's included: the last
one silently wins. In a kustomization that drops a whole generator or patch list without a word
(the prod overlay once lost its TRUSTED_PROXIES so), so every file is read here with a loader
that refuses a duplicate key and names both lines.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode


class UniqueKeyLoader(yaml.SafeLoader):
    """yaml.SafeLoader, but a mapping that has a key twice is an error, not the last one's."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<:` merges are not duplicates
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ConstructorError(
                    None,
                    None,
                    f"key {key!r} appears twice in one mapping (lines {seen[key]} and {line}); "
                    "the second would silently replace the first",
                    key_node.start_mark,
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def yaml_files(root: Path) -> list[Path]:
    k8s = root / "k8s"
    return sorted([*k8s.rglob("*.yaml"), *k8s.rglob("*.yml")])


def check_yaml_sources(root: Path) -> list[str]:
    """Every YAML file under k8s/ parses, and no mapping in it has a key twice."""
    problems = []
    for path in yaml_files(root):
        where = path.relative_to(root)
        try:
            list(yaml.load_all(path.read_text(), Loader=UniqueKeyLoader))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f":{mark.line + 1}" if mark is not None else ""
            reason = getattr(exc, "problem", None) or str(exc)
            problems.append(f"{where}{at}: {reason}")
    return problems
