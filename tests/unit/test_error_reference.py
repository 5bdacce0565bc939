"""docs/reference/errors.md lists every error type of common/errors.py (a new one appears in it
without editing this test), and says what the code does with each."""

from __future__ import annotations

import inspect
import re

from common import errors
from common.errors import AppError
from tools.reference import ROOT, render_all
from tools.reference import errors as page


def declared_error_types() -> set[str]:
    return {
        name
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, Exception) and cls.__module__ == errors.__name__
    }


def rows() -> dict[str, list[str]]:
    text = (ROOT / page.PAGE).read_text()
    found = {}
    for line in text.splitlines():
        if match := re.match(r"^\| `(\w+)` \|(.*)\|$", line):
            found[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return found


def test_the_page_lists_every_error_type_once() -> None:
    text = (ROOT / page.PAGE).read_text()
    assert set(rows()) == declared_error_types()
    for name in declared_error_types():
        assert text.count(f"| `{name}` |") == 1, name


def test_the_committed_page_is_what_the_code_renders() -> None:
    [rendered] = [p for p in render_all() if p.path == ROOT / page.PAGE]
    assert rendered.text == (ROOT / page.PAGE).read_text(), "run `make reference` and commit it"


def test_each_row_gives_the_code_a_client_sees_and_the_reason_on_the_wire() -> None:
    for name, cells in rows().items():
        cls = getattr(errors, name)
        if not issubclass(cls, AppError):
            continue
        graphql, _mutation, _status, reason, _rest, meaning = cells
        assert reason == f"`{cls.code.value}`", name
        assert graphql == f"`{cls.code.value}`", name
        assert meaning, f"{name} has no docstring of its own to say what it means"
