"""The generated reference pages (tools/reference/): `--check` fails, naming the page, when a page
is stale or missing; the events and metrics pages list everything the code holds, compared with
the catalogue and the registry themselves, so a new event or metric needs no edit here."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from prometheus_client.metrics import MetricWrapperBase

import tools.reference
from common import events
from tools.reference import __main__ as cli
from tools.reference import events as events_page
from tools.reference import metrics as metrics_page


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    """Every page as the code renders it now, by its path from the repository's root."""
    return {
        str(page.path.relative_to(tools.reference.ROOT)): page.text
        for page in tools.reference.render_all()
    }


@pytest.fixture(scope="module")
def comments() -> dict[str, str]:
    return events_page.proto_comments()


@pytest.fixture(scope="module")
def sent() -> events_page.Traffic:
    return events_page.traffic()


@pytest.fixture(scope="module")
def collected() -> list:
    return metrics_page.collectors()


@pytest.fixture(scope="module")
def recorded(collected: list) -> dict:
    return metrics_page.recorders(collected)


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pages: dict[str, str]) -> Path:
    """A copy of the committed pages under a temporary root the command reads and writes."""
    for relative in pages:
        source = tools.reference.ROOT / relative
        if source.exists():
            (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, tmp_path / relative)
    monkeypatch.setattr(tools.reference, "ROOT", tmp_path)
    monkeypatch.setattr(cli, "ROOT", tmp_path)
    rendered = [
        tools.reference.Page(_module_of(relative), tmp_path / relative, text)
        for relative, text in pages.items()
    ]
    monkeypatch.setattr(cli, "render_all", lambda: rendered)
    return tmp_path


def _module_of(relative: str) -> str:
    for module in tools.reference.page_modules():
        if module.PAGE == relative:
            return module.__name__
    raise AssertionError(relative)


# ---------------------------------------------------------------- the framework


def test_pages_are_rendered_the_same_twice(pages: dict[str, str]) -> None:
    again = {
        str(p.path.relative_to(tools.reference.ROOT)): p.text for p in tools.reference.render_all()
    }
    assert again == pages


def test_the_check_passes_on_pages_up_to_date(checkout: Path, capsys) -> None:
    assert cli.main(["--check"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("page", ["docs/reference/events.md", "docs/reference/metrics.md"])
def test_the_check_fails_naming_a_stale_page_and_writing_fixes_it(
    checkout: Path, page: str, capsys
) -> None:
    stale = checkout / page
    stale.write_text(stale.read_text().replace("|", "¦", 3))
    before = stale.read_text()

    assert cli.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert f"{page} is stale or missing" in err
    assert len(err.strip().splitlines()) == 1, "only the stale page is named"
    assert stale.read_text() == before, "--check writes nothing"

    assert cli.main([]) == 0
    assert cli.main(["--check"]) == 0


def test_the_check_fails_naming_a_missing_page(checkout: Path, capsys) -> None:
    (checkout / "docs/reference/metrics.md").unlink()
    assert cli.main(["--check"]) == 1
    assert "docs/reference/metrics.md is stale or missing" in capsys.readouterr().err


def test_the_check_renders_from_the_code_not_from_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """The real render path, against a root where every page is absent."""
    monkeypatch.setattr(tools.reference, "ROOT", tmp_path)
    monkeypatch.setattr(cli, "ROOT", tmp_path)
    assert cli.main(["--check"]) == 1
    err = capsys.readouterr().err
    for module in tools.reference.page_modules():
        assert f"{module.PAGE} is stale or missing" in err
    assert not (tmp_path / "docs").exists()


# ---------------------------------------------------------------- events


def _section(page: str, title: str) -> str:
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", page, re.M | re.S)
    assert found, f"no section {title}"
    return found.group(1)


def test_the_events_page_lists_every_event_with_its_key_and_fields(
    pages: dict[str, str],
) -> None:
    page = pages[events_page.PAGE]
    catalogue = events.all_events()
    assert catalogue
    for cls in catalogue:
        message = cls.DESCRIPTOR
        key = events.routing_key(cls)
        assert f"| [{message.name}](#{message.name.lower()}) | `{key}` |" in page
        section = _section(page, message.name)
        assert f"routing key: `{events.routing_key(cls)}`" in section
        for field in message.fields:
            assert f"| {field.number} | `{field.name}` | `{field.json_name}` |" in section
        for nested in message.nested_types:
            for field in nested.fields:
                assert f"| {field.number} | `{field.name}` |" in section


def test_the_events_page_carries_the_protos_comments(
    pages: dict[str, str], comments: dict[str, str]
) -> None:
    page = pages[events_page.PAGE]
    for cls in events.all_events():
        name = cls.DESCRIPTOR.full_name
        assert comments[name], f"{name} has no comment in its .proto"
        assert comments[name].replace("|", "\\|") in _section(page, cls.DESCRIPTOR.name)


def _named(text: str, verb: str, processes: set[str]) -> set[str]:
    """The processes a proto comment names after `published by` / `consumed by`, up to the end
    of that sentence or clause (reasons in parentheses left out)."""
    without_reasons = re.sub(r"\([^)]*\)", "", text)
    found = re.search(rf"{verb} by (.*?)(?:[.;]|consumed by|$)", without_reasons, re.I)
    return {w for w in re.findall(r"\w+", found.group(1)) if w in processes} if found else set()


def test_publishers_and_consumers_read_from_the_code_agree_with_the_protos(
    comments: dict[str, str], sent: events_page.Traffic
) -> None:
    """Two sources of the same fact: the protos' comments (for readers of the contract) and the
    code (the page). Every event has one publisher, the one its comment (or its file's) names;
    every consumer a comment names is one the code finds."""
    processes = set(events_page._code.processes())
    for cls in events.all_events():
        name = cls.DESCRIPTOR.full_name
        publishers = sent.publishers.get(name, set())
        assert len(publishers) == 1, f"{name} is published by {publishers or 'nobody'}"
        said = comments[name]
        of_file = comments[events_page.file_key(cls.DESCRIPTOR.file.name)]
        named = _named(said, "published", processes) or _named(of_file, "published", processes)
        assert named == publishers, f"{name}: the proto says {named}, the code {publishers}"
        consumers = sent.consumers.get(name, set())
        for text in (said, of_file):
            assert _named(text, "consumed", processes) <= consumers, name


def test_insights_consumes_the_whole_catalogue(sent: events_page.Traffic) -> None:
    for cls in events.all_events():
        assert "insights" in sent.consumers[cls.DESCRIPTOR.full_name]


# ---------------------------------------------------------------- metrics


def test_the_metrics_page_lists_every_metric_of_the_registry(
    pages: dict[str, str], collected: list
) -> None:
    page = pages[metrics_page.PAGE]
    assert any(isinstance(c, MetricWrapperBase) for c in collected)
    listed = re.findall(r"^\| `([a-z_:]+)` \|", page, re.M)
    expected = [family[0] for c in collected for family in metrics_page.families(c)]
    assert sorted(listed) == sorted(expected)
    for collector in collected:
        for name, kind, labels, help_text in metrics_page.families(collector):
            row = next(line for line in page.splitlines() if line.startswith(f"| `{name}` |"))
            assert f"| {kind} |" in row
            for label in labels:
                assert f"`{label}`" in row
            assert help_text.replace("|", "\\|") in row


def test_every_project_metric_is_recorded_somewhere(collected: list, recorded: dict) -> None:
    for collector in collected:
        names = [f[0] for f in metrics_page.families(collector)]
        assert recorded[id(collector)].processes, f"{names}: no process records it"


def test_a_metric_recorded_in_one_service_is_exported_by_that_service_only(
    collected: list, recorded: dict
) -> None:
    by_name = {family[0]: recorded[id(c)] for c in collected for family in metrics_page.families(c)}
    stripe = by_name["ticketing_stripe_requests_total"]
    assert stripe.processes == {"payments"}
    assert stripe.modules == {
        "svc_payments.adapters.stripe_gateway",
        "svc_payments.adapters.stripe_balance",
    }
    assert by_name["ticketing_graphql_requests_total"].processes == {"gateway"}


def _cells(row: str) -> list[str]:
    """A Markdown table row's cells; an escaped `\\|` is part of a cell."""
    return re.split(r"(?<!\\)\|", row.strip())[1:-1]


@pytest.mark.parametrize("page", [events_page.PAGE, metrics_page.PAGE])
def test_every_table_row_has_its_headers_cell_count(pages: dict[str, str], page: str) -> None:
    """What MkDocs needs to render the tables: no cell breaks a row with a raw `|` or a newline."""
    header: list[str] | None = None
    tables = 0
    for line in pages[page].splitlines():
        if not line.startswith("|"):
            header = None
            continue
        if header is None:
            header = _cells(line)
            tables += 1
            continue
        assert len(_cells(line)) == len(header), line
    assert tables


def test_a_metric_registered_anywhere_appears_on_the_page() -> None:
    from prometheus_client import REGISTRY, Counter

    probe = Counter("ticketing_reference_probe", "A probe | with a pipe", ["kind"])
    try:
        page = metrics_page.render()
    finally:
        REGISTRY.unregister(probe)
    row = "| `ticketing_reference_probe_total` | counter | `kind` | A probe \\| with a pipe |"
    assert row in page
    assert "ticketing_reference_probe" not in metrics_page.render()
