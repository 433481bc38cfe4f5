"""Privacy-preserving linkage: agencies encode their records locally, the hub links the
encodings with the same features and the same Splink machinery (PRODUCT.md E3).

At the agency, ``encode_file`` reads the agency's file, builds exactly the comparison
features clear-text linkage uses (``features.prepare``), and replaces every identifying
value with a keyed token (``encoding.token``; names and their one-letter deletions, sound
keys, blocking keys, dates, phone, street, ZIP) and every name with its keyed Bloom filter
(``encoding.bloom_positions``, stored as bytes, compared as DuckDB bitstrings). Only coarse
fields stay in clear: source, birth-year range, whether an adult age was stated, sex, ZIP
area (3 digits) and county. The key never leaves the agencies; the hub never sees a name
or a date of birth.

At the hub, the encoded file is the prepared table, and the hub adds the features that
depend on the whole file (``features.add_file_features``): the spelling keys from the
deletion tokens (it learns which name tokens are one typing error apart, as the Bloom
filters already tell it), the uncommon aliases (from how many records carry each
given-name token) and the adult-age keys (tokens, county and sex). Equal tokens still mean
equal values, so exact, nickname (given names are tokenised after the nickname table is applied),
sound-alike, alias and day/month-swap levels work unchanged; spelling similarity is
measured by the Dice coefficient of the Bloom filters instead of edit distance, and the
"one character different" date level becomes "one of year, month and day different"
(tokens of the date's year-month, year-day and month-day: two agree when one part differs).
See docs/privacy-preserving-linkage.md for the threat model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from nowrongdoor.identity import features
from nowrongdoor.identity.encoding import BLOOM_BITS, bigrams, bloom_positions, token

# Tokenised columns and the token namespace of each (columns compared with each other
# share a namespace: given names meet name tokens, alias tokens meet surname parts).
SCALARS = {"first_name": "name", "middle_name": "name", "last_name": "name", "first_key": "name",
           "first_sound": "sound", "last_sound": "sound", "dob": "dob", "dob_key": "dob_key", "phone": "phone",
           "street_address": "street", "postcode": "postcode"}
LISTS = {"given_names": "name", "last_parts": "name", "name_tokens": "name", "alias_tokens": "name",
         "alias_extra": "name", "given_tokens": "name", "name_keys": "name_key", "first_deletions": "name",
         "last_deletions": "name"}
BLOOMS = {"first_bloom": "first_name", "last_bloom": "last_name"}
CLEAR = ("unique_id", "source", "birth_year_low", "birth_year_high", "stated_adult", "sex", "zip3", "county")
BATCH_ROWS = 50_000


class _Encoder:
    """Tokens and filters with a cache: names repeat, so most values are hashed once."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self._tokens: dict[tuple[str, str], str] = {}
        self._blooms: dict[str, bytes] = {}

    def token(self, space: str, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        cached = self._tokens.get((space, value))
        if cached is None:
            cached = self._tokens[(space, value)] = token(self.key, space, value)
        return cached

    def bloom(self, name: str | None) -> bytes | None:
        """The name's filter as BLOOM_BITS / 8 bytes (bit p is bit 7 - p % 8 of byte p // 8)."""
        if not name:
            return None
        cached = self._blooms.get(name)
        if cached is None:
            grams = [g for part in name.split() for g in bigrams(part)]
            filter_ = bytearray(BLOOM_BITS // 8)
            for position in bloom_positions(self.key, grams):
                filter_[position // 8] |= 0x80 >> (position % 8)
            cached = self._blooms[name] = bytes(filter_)
        return cached


def date_parts(dob: str | None) -> list[str]:
    """An ISO date's year-month, year-day and month-day: two dates share one exactly when
    no more than one of year, month and day differs, which a token of the whole date
    cannot show (the hub reads them as ``clustering.Birth.parts``)."""
    if not dob:
        return []
    year, month, day = dob.split("-")
    return [f"ym|{year}-{month}", f"yd|{year}-{day}", f"md|{month}-{day}"]


def _schema() -> pa.Schema:
    fields: list[pa.Field[Any]] = [pa.field("unique_id", pa.string()), pa.field("source", pa.string())]
    fields += [pa.field(c, pa.string()) for c in SCALARS]
    fields += [pa.field(c, pa.list_(pa.string())) for c in LISTS]
    fields += [pa.field(c, pa.binary()) for c in BLOOMS]
    fields += [pa.field("dob_parts", pa.list_(pa.string()))]
    fields += [pa.field("birth_year_low", pa.int64()), pa.field("birth_year_high", pa.int64()),
               pa.field("stated_adult", pa.bool_()), pa.field("sex", pa.string()), pa.field("zip3", pa.string()),
               pa.field("county", pa.string())]
    return pa.schema(fields)


def encode_prepared(con: duckdb.DuckDBPyConnection, table: str, key: bytes, out: Path,
                    progress: Callable[[int], object] | None = None) -> int:
    """Encode the prepared ``table`` into the Parquet file ``out``; returns the rows written."""
    encoder = _Encoder(key)
    schema = _schema()
    columns = [*CLEAR, *SCALARS, *LISTS, *BLOOMS.values()]
    select = ", ".join(dict.fromkeys(columns))
    reader = con.sql(f"SELECT {select} FROM {table} ORDER BY unique_id").to_arrow_reader(BATCH_ROWS)
    written = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(out, schema) as writer:
        for batch in reader:
            data = batch.to_pydict()
            encoded: dict[str, list[Any]] = {c: data[c] for c in CLEAR}
            for column, space in SCALARS.items():
                encoded[column] = [encoder.token(space, v) for v in data[column]]
            for column, space in LISTS.items():
                encoded[column] = [[t for t in (encoder.token(space, v) for v in values or []) if t]
                                   for values in data[column]]
            for column, source in BLOOMS.items():
                encoded[column] = [encoder.bloom(v) for v in data[source]]
            encoded["dob_parts"] = [[t for t in (encoder.token("dob_part", part) for part in date_parts(d)) if t]
                                    for d in data["dob"]]
            writer.write_table(pa.table(encoded, schema=schema))
            written += batch.num_rows
            if progress:
                progress(batch.num_rows)
    return written


def encode_file(input_path: Path, key: bytes, out: Path, *, today: dt.date | None = None,
                memory_limit: str = features.MEMORY_LIMIT) -> int:
    """At the agency: read, check and encode ``input_path`` into ``out`` (Parquet)."""
    con = features.connect(memory_limit=memory_limit)
    if features.load_file(con, input_path) == 0:
        raise features.InputInvalid([f"{input_path.name}: no records"])
    features.validate(con, today=today)
    prepared = features.prepare(con, today=today)
    return encode_prepared(con, prepared.table, key, out)


def load_encoded(con: duckdb.DuckDBPyConnection, path: Path, table: str = "records") -> features.Prepared:
    """At the hub: take an encoded file as the prepared table, after checking its columns."""
    expected = _schema()
    try:
        found = pq.read_schema(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise features.InputInvalid([f"{path.name}: not an encoded Parquet file ({exc})"]) from exc
    missing = [f.name for f in expected if f.name not in found.names]
    if missing:
        raise features.InputInvalid([f"{path.name}: missing encoded columns {', '.join(missing)}"])
    names = ", ".join(f"CAST({f.name} AS BIT) AS {f.name}" if f.name in BLOOMS else f.name for f in expected)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {names} FROM read_parquet(?)", [str(path)])
    rows: int = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    duplicates = con.execute(f"SELECT unique_id FROM {table} GROUP BY 1 HAVING count(*) > 1 LIMIT 5").fetchall()
    if duplicates:
        raise features.InputInvalid([f"record_id {d[0]!r} appears more than once" for d in duplicates])
    features.add_file_features(con, table)
    return features.Prepared(table=table, rows=rows)


def read_key(path: Path) -> bytes:
    """The agencies' shared key: a file holding at least 32 random bytes (raw or hex)."""
    raw = path.read_bytes().strip()
    try:
        return bytes.fromhex(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return raw
