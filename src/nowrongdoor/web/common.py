"""Small things every view module needs: the signed-in staff member, the interface
language of the request, the record version a form was rendered from, and running the
posted form's action."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from nowrongdoor.directory.models import User
from nowrongdoor.errors import ValidationFailed


def actor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def language() -> str:
    """``es`` or ``en``: the content files carry both."""
    return "es" if (get_language() or "en").startswith("es") else "en"


def form_version(request: HttpRequest) -> int:
    """The ``version`` a form was rendered from; a missing or garbled one is a 400, not a 500."""
    raw = request.POST.get("version", "")
    if not raw.isdigit():
        raise ValidationFailed({"version": ["reload the page: the form is incomplete"]})
    return int(raw)


def posted_date(raw: str | None, field: str) -> dt.date:
    """A form's date (YYYY-MM-DD), or ValidationFailed naming the field."""
    try:
        return dt.date.fromisoformat((raw or "").strip())
    except ValueError:
        raise ValidationFailed({field: ["must be a date (YYYY-MM-DD)"]}) from None


def posted_number(raw: str | None, field: str, kind: type[int] | type[float] = int) -> Any:
    """A form's whole number (or ``kind``), or ValidationFailed naming the field."""
    try:
        return kind((raw or "").strip())
    except ValueError:
        raise ValidationFailed({field: ["must be a number"]}) from None


def run_action(request: HttpRequest, handlers: dict[str, Callable[[], Any]]) -> dict[str, list[str]] | None:
    """Run the handler of the posted ``action``: ``None`` when it succeeded ("Saved." is
    queued for the next page), else the field errors to show on the same page. An
    unknown action is a 400."""
    handler = handlers.get(request.POST.get("action", ""))
    if handler is None:
        raise ValidationFailed({"action": ["unknown action"]})
    try:
        handler()
    except ValidationFailed as exc:
        return exc.errors
    messages.success(request, _("Saved."))
    return None

