"""Domain errors become plain-language error pages, once, for every web view."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from nowrongdoor.errors import AccessDenied, Immutable, NotFound, StaleEdit, ValidationFailed


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, NotFound):
            return render(request, "web/error.html", {"title": "Not found", "kind": "not_found"}, status=404)
        if isinstance(exc, AccessDenied):
            return render(request, "web/error.html", {"title": "No access", "kind": "denied"}, status=403)
        if isinstance(exc, Immutable):
            return render(request, "web/error.html", {"title": "Already closed", "kind": "immutable",
                                                      "detail": str(exc)}, status=409)
        if isinstance(exc, StaleEdit):
            return render(request, "web/error.html", {"title": "Changed by someone else", "kind": "stale"}, status=409)
        if isinstance(exc, ValidationFailed):
            return render(
                request, "web/error.html", {"title": "Check the form", "kind": "invalid", "errors": exc.errors},
                status=400,
            )
        return None
