"""Keep personal data out of logs.

Search terms travel in query strings (``/youth/?q=<name>``), so every log record has its
query strings redacted before it is written. Our own loggers log ids and counts only.
"""

from __future__ import annotations

import logging
import re

_QUERY = re.compile(r"\?[^\s\"']*")


class RedactQueryStrings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg = _QUERY.sub("?[redacted]", message)
            record.args = None
        request = getattr(record, "request", None)
        if request is not None:
            record.request = None  # the handler would otherwise render headers, cookies and the query
        return True
