"""Privacy-preserving encodings of a youth's identifiers, for agencies that may not share
names with the hub (PRODUCT.md E3).

Each agency encodes its records **locally** with a secret key that the agencies share
among themselves and never give to the hub. It uploads only the encodings and a few
coarse fields; the hub links encodings with the same machinery it uses for clear text,
without ever seeing a name or a date of birth. The method follows the published
literature (keyed hashing of normalised identifiers; Schnell, Bachteler & Reiher 2009,
"Privacy-preserving record linkage using Bloom filters", for the name encoding):

- **Keyed tokens** (HMAC-SHA-256, truncated to 128 bits) of each normalised value, in
  a namespace per kind of value: names and aliases, sound keys, the date of birth, the
  **day/month key** (year with day and month in either order, so 2012-03-04 and
  2012-04-03 agree), phone, street, ZIP. Equal tokens mean equal values; nothing else.
- **A Bloom-filter encoding** (a "cryptographic long-term key") of a name: each
  padded bigram of the name sets ``k`` bits of an
  ``m``-bit filter, chosen by double hashing with two keys derived from the secret. The
  Dice coefficient of two filters approximates the bigram similarity of the names, so
  "Destiny" and "Destinee" stay close while "Destiny" and "Maria" do not.

Without the key the tokens and filters are useless for linking: a different key gives
unrelated encodings (tested). They are **pseudonyms, not anonymity**: whoever holds the
key can encode a guessed name and look for it, and frequency and graph-matching attacks
on Bloom filters are published. See docs/privacy-preserving-linkage.md for the threat
model; ``encoded`` applies these primitives to a whole file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

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


def bloom_positions(key: bytes, grams: Iterable[str], *, bits: int = BLOOM_BITS, hashes: int = BLOOM_HASHES
                    ) -> list[int]:
    """The set bits of an ``bits``-bit Bloom filter with ``hashes`` positions per gram,
    chosen by double hashing: position_i = (h1 + i * h2) mod bits. Sorted, distinct."""
    _check(key)
    k1, k2 = _derive(key, "bloom-1"), _derive(key, "bloom-2")
    positions: set[int] = set()
    for gram in grams:
        data = gram.encode()
        h1 = int.from_bytes(hmac.new(k1, data, hashlib.sha256).digest()[:8], "big")
        h2 = int.from_bytes(hmac.new(k2, data, hashlib.sha256).digest()[:8], "big") | 1
        positions.update((h1 + i * h2) % bits for i in range(hashes))
    return sorted(positions)


def bloom(key: bytes, grams: Iterable[str], *, bits: int = BLOOM_BITS, hashes: int = BLOOM_HASHES) -> int:
    """The same filter as an int (bit i set for each position i)."""
    return sum(1 << p for p in bloom_positions(key, grams, bits=bits, hashes=hashes))


def dice(a: int, b: int) -> float:
    """Dice coefficient of two filters: 2|a∧b| / (|a| + |b|); 0 when both are empty."""
    total = a.bit_count() + b.bit_count()
    return 2 * (a & b).bit_count() / total if total else 0.0
