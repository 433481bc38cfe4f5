"""Small helpers the API tests share: JSON requests and reading 422 field errors."""

from __future__ import annotations

import json
from typing import Any

WHEN = "2025-03-01T10:00:00-08:00"


def post(client: Any, path: str, body: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def patch(client: Any, path: str, body: Any) -> Any:
    return client.patch(path, data=json.dumps(body), content_type="application/json")


def fields_named(response: Any) -> set[str]:
    """The fields a 422 names, as dotted paths (``first_name``, ``aliases.0``, ``details.allegations``)."""
    names = set()
    for problem in response.json()["detail"]:
        loc = [str(part) for part in problem["loc"]]
        if loc[:1] in (["body"], ["query"], ["path"]):
            loc = loc[1:]
        if loc[:1] == ["payload"]:
            loc = loc[1:]
        names.add(".".join(loc))
    return names
