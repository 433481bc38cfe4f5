"""Name normalisation shared by search and (later) identity resolution."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_NON_LETTERS = re.compile(r"[^a-z0-9 ]+")


def normalise(text: str) -> str:
    """Lower-case, strip accents and punctuation, collapse spaces: "José-Luis" -> "jose luis"."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return " ".join(_NON_LETTERS.sub(" ", ascii_only).split())


def search_name(names: Iterable[str]) -> str:
    return " ".join(n for n in (normalise(x) for x in names) if n)[:600]
