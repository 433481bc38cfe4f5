"""Privacy-preserving encodings of a youth's identifiers, for agencies that may not share
names with the hub (PRODUCT.md E3).

Each agency encodes its records **locally** with a secret key that the agencies share
among themselves and never give to the hub. It uploads only the encodings and a few
coarse fields; the hub links encodings with the same machinery it uses for clear text,
without ever seeing a name or a date of birth. The method follows the published
literature (keyed hashing of normalised identifiers; Schnell, Bachteler & Reiher 2009,
"Privacy-preserving record linkage using Bloom filters", for the name encoding):

- **Keyed tokens** (HMAC-SHA-256, truncated to 128 bits) of each normalised field:
  first and last name, every alias, the full date of birth, its year, month and day, a
  **day/month-swap token** (year with day and month in either order, so 2012-03-04 and
  2012-04-03 agree), and the sex. Equal tokens mean equal values; nothing else.
- **A Bloom-filter encoding** (a "cryptographic long-term key") of the names: each
  padded bigram of the first name, last name and aliases sets ``k`` bits of an
  ``m``-bit filter, chosen by double hashing with two keys derived from the secret. The
  Dice coefficient of two filters approximates the bigram similarity of the names, so
  "Destiny" and "Destinee" stay close while "Destiny" and "Maria" do not.

Without the key the tokens and filters are useless for linking: a different key gives
unrelated encodings (tested). They are **pseudonyms, not anonymity**: whoever holds the
key can encode a guessed name and look for it, and frequency and graph-matching attacks
on Bloom filters are published. See docs/privacy-preserving-linkage.md for the threat
model.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field

from nowrongdoor.youth.names import normalise

MIN_KEY_BYTES = 32
TOKEN_BYTES = 16
BLOOM_BITS = 1024
BLOOM_HASHES = 20


class KeyTooShort(ValueError):
    pass


def _check(key: bytes) -> None:
    if len(key) < MIN_KEY_BYTES:
        raise KeyTooShort(f"the shared key must be at least {MIN_KEY_BYTES} random bytes")


def _derive(key: bytes, purpose: str) -> bytes:
    """A sub-key per use, so a token and a filter never share a hash key."""
    return hmac.new(key, f"nowrongdoor/{purpose}".encode(), hashlib.sha256).digest()


def token(key: bytes, field_name: str, value: str) -> str:
    """The keyed token of one normalised value of one field ('' for an empty value)."""
    _check(key)
    if not value:
        return ""
    digest = hmac.new(_derive(key, "token"), f"{field_name}\x1f{value}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:TOKEN_BYTES]).decode().rstrip("=").lower()


def bigrams(name: str) -> list[str]:
    """Padded bigrams of a normalised name: "ana" -> _a, an, na, a_."""
    padded = f"_{name}_"
    return [padded[i:i + 2] for i in range(len(padded) - 1)] if name else []


def bloom(key: bytes, grams: Iterable[str], *, bits: int = BLOOM_BITS, hashes: int = BLOOM_HASHES) -> int:
    """An ``bits``-bit Bloom filter (as an int) with ``hashes`` positions per gram,
    chosen by double hashing: position_i = (h1 + i * h2) mod bits."""
    _check(key)
    k1, k2 = _derive(key, "bloom-1"), _derive(key, "bloom-2")
    filter_ = 0
    for gram in grams:
        data = gram.encode()
        h1 = int.from_bytes(hmac.new(k1, data, hashlib.sha256).digest()[:8], "big")
        h2 = int.from_bytes(hmac.new(k2, data, hashlib.sha256).digest()[:8], "big") | 1
        for i in range(hashes):
            filter_ |= 1 << ((h1 + i * h2) % bits)
    return filter_


def dice(a: int, b: int) -> float:
    """Dice coefficient of two filters: 2|a∧b| / (|a| + |b|); 0 when both are empty."""
    total = a.bit_count() + b.bit_count()
    return 2 * (a & b).bit_count() / total if total else 0.0


def swap_token(key: bytes, birth_date: dt.date) -> str:
    """Equal for a date and its day/month swap (2012-03-04 and 2012-04-03)."""
    low, high = sorted((birth_date.month, birth_date.day))
    return token(key, "dob_swap", f"{birth_date.year:04d}-{low:02d}-{high:02d}")


@dataclass(frozen=True)
class EncodedRecord:
    """What an agency uploads in privacy-preserving mode: encodings and coarse fields."""

    record_id: str
    first_name: str
    last_name: str
    aliases: tuple[str, ...]
    dob: str
    dob_year: str
    dob_month: str
    dob_day: str
    dob_swap: str
    sex: str
    names_bloom: str  # hex of the filter
    coarse: dict[str, str] = field(default_factory=dict)  # e.g. county, birth year band: sent in clear


def encode(key: bytes, *, record_id: str, first_name: str, last_name: str, aliases: Iterable[str] = (),
           birth_date: dt.date | None = None, sex: str = "", coarse: dict[str, str] | None = None) -> EncodedRecord:
    """Encode one record with the agencies' shared key."""
    first, last = normalise(first_name), normalise(last_name)
    others = tuple(sorted({normalise(a) for a in aliases} - {""}))
    names = [n for part in (first, last, *others) for n in part.split()]
    return EncodedRecord(
        record_id=record_id, first_name=token(key, "first_name", first), last_name=token(key, "last_name", last),
        aliases=tuple(token(key, "alias", a) for a in others),
        dob=token(key, "dob", birth_date.isoformat()) if birth_date else "",
        dob_year=token(key, "dob_year", str(birth_date.year)) if birth_date else "",
        dob_month=token(key, "dob_month", str(birth_date.month)) if birth_date else "",
        dob_day=token(key, "dob_day", str(birth_date.day)) if birth_date else "",
        dob_swap=swap_token(key, birth_date) if birth_date else "",
        sex=token(key, "sex", sex if sex not in ("", "unknown") else ""),
        names_bloom=format(bloom(key, (g for n in names for g in bigrams(n))), f"0{BLOOM_BITS // 4}x"),
        coarse=dict(coarse or {}),
    )
