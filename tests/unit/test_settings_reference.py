"""docs/reference/settings.md is rendered from the settings classes: a field added to a class is on
the page with its type, default and description, nothing else to edit (issue 19, item 3)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from svc_orders.config import OrdersSettings
from tools.reference import ROOT, render_all
from tools.reference.settings import PAGE, readers, render


def rows(page: str) -> dict[str, str]:
    """Each table row of the page, by its variable."""
    return {line.split("`", 2)[1]: line for line in page.splitlines() if line.startswith("| `")}


def test_every_setting_of_every_process_is_on_the_page_with_a_description() -> None:
    page = rows(render())
    for process, cls in readers().items():
        for name, field in cls.model_fields.items():
            assert (field.description or "").strip(), f"{cls.__name__}.{name} has no description"
            assert name.upper() in page, f"{name.upper()} ({process}) is not on the page"


def test_a_new_field_shows_up_without_editing_anything_else() -> None:
    class GrownOrdersSettings(OrdersSettings):
        order_reminder_minutes: int = Field(
            7, description="How long before expiry the buyer is reminded."
        )
        reminder_api_key: SecretStr | None = Field(None, description="The mailer's key.")
        reminder_api_key_file: str | None = Field(None, description="The key from a file.")

    page = rows(render({**readers(), "orders": GrownOrdersSettings}))
    assert page["ORDER_REMINDER_MINUTES"] == (
        "| `ORDER_REMINDER_MINUTES` | integer | `7` | orders "
        "| How long before expiry the buyer is reminded. |"
    )
    secret = page["REMINDER_API_KEY"]
    assert "| secret | (secret) | orders |" in secret and "Or `REMINDER_API_KEY_FILE`" in secret
    assert "| path of a file | unset | orders |" in page["REMINDER_API_KEY_FILE"]
    assert "ORDER_REMINDER_MINUTES" not in rows(render())


def test_a_setting_two_processes_read_is_listed_once_naming_both() -> None:
    page = render()
    assert page.count("| `GATEWAY_PORT` |") == 1
    assert "| gateway, `ticketing run` |" in rows(page)["GATEWAY_PORT"]
    assert "| every process |" in rows(page)["AMQP_URL"]


def test_no_secret_default_is_shown() -> None:
    page = render()
    assert "guest:guest" not in page
    assert "| (secret) |" in rows(page)["AMQP_URL"]


def test_the_committed_page_is_what_the_classes_render() -> None:
    (page,) = [p for p in render_all() if p.path == ROOT / PAGE]
    assert (ROOT / PAGE).read_text() == page.text, "run `make reference` and commit it"
