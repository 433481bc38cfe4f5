"""Every web request is one access scope: shared access contexts, one audit append."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from nowrongdoor.access.decisions import request_scope


class RequestScopeMiddleware:
    """Runs the view inside ``access.decisions.request_scope``. The audit events of the
    request's reads are appended before the response leaves; if that fails the request
    fails, so nothing is shown that was not audited."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_scope():
            return self.get_response(request)
