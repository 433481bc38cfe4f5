"""Small things every view module needs: the signed-in staff member, the interface
language of the request, and the record version a form was rendered from."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import get_language

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
