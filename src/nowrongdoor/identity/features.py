"""Records in, comparison features out: the one place where identifiers are read,
checked and turned into the columns the linkage model compares.

Everything runs in DuckDB, so a million records never become a million Python
objects. The prepared table holds only plain types (strings, integers, booleans and
lists of strings), which is what keeps the model portable between backends: the Spark
backend reads the same prepared table from Parquet.

Input columns (all optional except ``record_id``; unknown columns are ignored):
``record_id, source, first_name, middle_name, last_name, aliases`` (semicolon-separated),
``birth_date`` (ISO), ``age_stated`` and ``age_recorded_on`` (the day the age was
stated; today when absent), ``sex, street_address, city, postcode, county, phone``.

Features, in the domain's words:

- **given names** of the first name: itself and every given name it is a short form of
  (nickname table), so "Dee" and "Destiny" agree; ``first_key`` is one of them for blocking;
- a **sound key** of first and last name (a Soundex-style code: letters that sound alike
  share a digit, vowels dropped, repeats collapsed), so "Jonson" and "Johnson" agree;
- **surname parts**, so "Smith-Garcia" agrees with "Smith";
- **name tokens** (every word of every name and alias) and **alias tokens**, so a street
  name or an earlier surname recorded as an alias can meet the other record's names; the
  **alias words that are not the record's own names** (``alias_extra``: "Destiny Jones" on
  Destiny Smith gives only "jones") and the **given-name words** (``given_tokens``: first
  and middle), so a real first name recorded as an alias meets the other's first name;
- the **birth-year range**: a date of birth gives one year; an age stated on a day gives
  the two years it allows. A youth who gives a false adult age (report ch. 3) has a
  range years earlier than her real one: the model compares ranges, not ages;
- a **day/month key** (the smaller and larger of day and month), equal when day and
  month are swapped; ZIP code, its first three digits, county; phone digits;
- **spelling keys**, equal when a first name or surname is one typing error from the
  other record's; **uncommon aliases** and one-sided **adult-age keys**, for a record
  given under a false name and a false adult age (``add_file_features``: they depend on
  how common each name is in the file).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from nowrongdoor.identity.nicknames import nickname_table

INPUT_COLUMNS = ("record_id", "source", "first_name", "middle_name", "last_name", "aliases", "birth_date",
                 "age_stated", "age_recorded_on", "sex", "street_address", "city", "postcode", "county", "phone")
SEX_CODES = {"f": "f", "female": "f", "girl": "f", "m": "m", "male": "m", "boy": "m", "u": None, "unknown": None,
             "x": None, "": None}
MAX_REPORTED = 50

MACROS = r"""
CREATE OR REPLACE MACRO nwd_norm(s) AS
    nullif(trim(regexp_replace(lower(strip_accents(coalesce(s, ''))), '[^a-z0-9]+', ' ', 'g')), '');
CREATE OR REPLACE MACRO nwd_codes(s) AS
    str_split(translate(regexp_replace(s, '[^a-z]', '', 'g'), 'bfpvcgjkqsxzdtlmnrhw', '111122222222334556__'), '');
CREATE OR REPLACE MACRO nwd_deletions(s) AS CASE WHEN s IS NULL THEN [] WHEN length(s) < 4 THEN [s] ELSE
    list_concat([s], list_transform(range(1, length(s) + 1), lambda i: s[1:i - 1] || s[i + 1:])) END;
CREATE OR REPLACE MACRO nwd_sound(s) AS CASE WHEN s IS NULL THEN NULL ELSE
    left(regexp_replace(s, '[^a-z]', '', 'g'), 1) || rpad(left(regexp_replace(array_to_string(list_filter(
        list_filter(nwd_codes(s), lambda c: c != '_'),
        lambda c, i: i = 1 OR c != list_filter(nwd_codes(s), lambda d: d != '_')[i - 1])[2:], ''),
        '[a-z]', '', 'g'), 3), 3, '0') END;
"""


class InputInvalid(ValueError):
    """The input file cannot be linked; ``problems`` says where and why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""))
        self.problems = problems


@dataclass(frozen=True)
class Prepared:
    table: str
    rows: int


# DuckDB's memory ceiling for linkage: with Python and Splink beside it, the process peaks
# about 0.7 GiB above it (3,625 MiB at 1,000,000 records), under the 4 GiB budget.
MEMORY_LIMIT = "3GB"


def connect(memory_limit: str = MEMORY_LIMIT, temp_directory: Path | None = None, threads: int | None = None
            ) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a memory ceiling; spills to ``temp_directory`` beyond it."""
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    if temp_directory is not None:
        temp_directory.mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = '{temp_directory}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET preserve_insertion_order = true")
    install_macros(con)
    return con


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(MACROS)
    table = nickname_table()
    con.execute("CREATE OR REPLACE TABLE nwd_nicknames (form VARCHAR, given VARCHAR)")
    con.executemany("INSERT INTO nwd_nicknames VALUES (?, ?)", table.pairs())


def load_file(con: duckdb.DuckDBPyConnection, path: Path, table: str = "raw_input") -> int:
    """Read a CSV or Parquet file into ``table`` (all columns as text, in file order),
    keeping only known columns and adding the missing ones as empty."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputInvalid([f"{path}: no such file"])
    try:
        if suffix == ".parquet":
            source = f"read_parquet('{sql_path(path)}')"
        elif suffix in {".csv", ".txt"}:
            source = f"read_csv('{sql_path(path)}', all_varchar = true, header = true, auto_detect = true)"
        else:
            raise InputInvalid([f"{path.name}: expected a .csv, .txt (CSV) or .parquet file"])
        described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    except duckdb.Error as exc:
        raise InputInvalid([f"{path.name}: cannot be read ({str(exc).splitlines()[0]})"]) from exc
    columns = [row[0] for row in described]
    types = {row[0]: str(row[1]).upper() for row in described}
    lowered = {c.strip().lower(): c for c in columns}
    if "record_id" not in lowered:
        raise InputInvalid([f"{path.name}: missing required column record_id (found: {', '.join(columns)})"])
    def text(column: str) -> str:
        if column not in lowered:
            return f"CAST(NULL AS VARCHAR) AS {column}"
        name = lowered[column]
        if types[name] == "DATE" or types[name].startswith("TIMESTAMP"):  # typed Parquet dates
            return f"strftime(CAST(\"{name}\" AS DATE), '%Y-%m-%d') AS {column}"
        return f'CAST("{name}" AS VARCHAR) AS {column}'

    select = ", ".join(text(c) for c in INPUT_COLUMNS)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT row_number() OVER () AS row_no, {select} FROM {source}")
    count: int = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return count


def sql_path(path: Path) -> str:
    """A path inside a single-quoted DuckDB string literal."""
    return str(path).replace("'", "''")


def validate(con: duckdb.DuckDBPyConnection, table: str = "raw_input", today: dt.date | None = None) -> None:
    """Every problem of every row, by row and column; raises ``InputInvalid`` if any."""
    today = today or dt.datetime.now(dt.UTC).date()
    sexes = ", ".join(f"'{s}'" for s in SEX_CODES)
    checks = [
        ("record_id", "nullif(trim(record_id), '') IS NULL", "'required'"),
        ("record_id", "count(*) OVER (PARTITION BY trim(record_id)) > 1 AND nullif(trim(record_id), '') IS NOT NULL",
         "'''' || record_id || ''' appears more than once'"),
        ("birth_date",
         "nullif(trim(birth_date), '') IS NOT NULL AND try_strptime(trim(birth_date), '%Y-%m-%d') IS NULL",
         "'''' || birth_date || ''' is not a date (YYYY-MM-DD)'"),
        ("birth_date", f"try_strptime(trim(birth_date), '%Y-%m-%d') NOT BETWEEN DATE '1900-01-01' AND DATE '{today}'",
         "'''' || birth_date || ''' is outside 1900-01-01..today'"),
        ("age_stated", "nullif(trim(age_stated), '') IS NOT NULL AND (NOT regexp_full_match(trim(age_stated), "
         "'[0-9]+') OR try_cast(trim(age_stated) AS INTEGER) NOT BETWEEN 0 AND 120)",
         "'''' || age_stated || ''' is not an age in whole years (0-120)'"),
        ("age_recorded_on", "nullif(trim(age_recorded_on), '') IS NOT NULL AND "
         "try_strptime(trim(age_recorded_on), '%Y-%m-%d') IS NULL",
         "'''' || age_recorded_on || ''' is not a date (YYYY-MM-DD)'"),
        ("sex", f"lower(trim(coalesce(sex, ''))) NOT IN ({sexes})",
         "'''' || sex || ''' is not one of female, male, unknown (or f, m, u)'"),
    ]
    unions = " UNION ALL ".join(
        f"SELECT row_no, '{column}' AS col, {message} AS problem FROM (SELECT *, ({condition}) AS bad FROM {table})"
        f" WHERE bad" for column, condition, message in checks
    )
    rows = con.execute(f"SELECT row_no, col, problem FROM ({unions}) ORDER BY row_no, col LIMIT {MAX_REPORTED + 1}"
                       ).fetchall()
    if rows:
        problems = [f"row {r}, column {c}: {p}" for r, c, p in rows[:MAX_REPORTED]]
        if len(rows) > MAX_REPORTED:
            problems.append(f"more problems not listed (the first {MAX_REPORTED} are shown)")
        raise InputInvalid(problems)


def prepare(con: duckdb.DuckDBPyConnection, source: str = "raw_input", table: str = "records",
            today: dt.date | None = None) -> Prepared:
    """Build the comparison features of every record of ``source`` into ``table``."""
    today = today or dt.datetime.now(dt.UTC).date()
    con.execute(f"""
CREATE OR REPLACE TEMP TABLE nwd_base AS
    SELECT
        trim(record_id) AS unique_id,
        coalesce(nullif(trim(source), ''), 'input') AS source,
        nwd_norm(first_name) AS first_name,
        nwd_norm(middle_name) AS middle_name,
        nwd_norm(last_name) AS last_name,
        list_filter(list_transform(str_split(coalesce(aliases, ''), ';'), lambda a: nwd_norm(a)),
                    lambda a: a IS NOT NULL) AS alias_names,
        CAST(try_strptime(trim(birth_date), '%Y-%m-%d') AS DATE) AS dob_date,
        year(dob_date) || '/' || lpad(CAST(least(month(dob_date), day(dob_date)) AS VARCHAR), 2, '0') || '/' ||
            lpad(CAST(greatest(month(dob_date), day(dob_date)) AS VARCHAR), 2, '0') AS dob_key,
        try_cast(trim(age_stated) AS INTEGER) AS age,
        coalesce(CAST(try_strptime(trim(age_recorded_on), '%Y-%m-%d') AS DATE), DATE '{today}') AS age_day,
        CASE lower(trim(coalesce(sex, ''))) WHEN 'f' THEN 'f' WHEN 'female' THEN 'f' WHEN 'girl' THEN 'f'
            WHEN 'm' THEN 'm' WHEN 'male' THEN 'm' WHEN 'boy' THEN 'm' END AS sex,
        nwd_norm(street_address) AS street_address,
        nwd_norm(city) AS city,
        nullif(left(regexp_replace(coalesce(postcode, ''), '[^0-9]', '', 'g'), 5), '') AS postcode,
        nullif(trim(regexp_replace(lower(coalesce(county, '')), '(county|[^a-z ])', '', 'g')), '') AS county,
        nullif(right(regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g'), 10), '') AS phone_digits
    FROM {source};
CREATE OR REPLACE TEMP TABLE nwd_sounds AS
    SELECT name, nwd_sound(name) AS sound FROM (
        SELECT first_name AS name FROM nwd_base UNION SELECT last_name FROM nwd_base) WHERE name IS NOT NULL;
CREATE OR REPLACE TABLE {table} AS
WITH base AS (SELECT * FROM nwd_base), given AS (
    SELECT b.unique_id, list_sort(list_distinct(list(n.given))) AS given_names
    FROM base b JOIN nwd_nicknames n ON n.form = split_part(b.first_name, ' ', 1)
    GROUP BY b.unique_id
)
SELECT
    b.unique_id, b.source, b.first_name, b.middle_name, b.last_name,
    coalesce(g.given_names, CASE WHEN b.first_name IS NULL THEN [] ELSE [split_part(b.first_name, ' ', 1)] END)
        AS given_names,
    coalesce(g.given_names[1], split_part(b.first_name, ' ', 1)) AS first_key,
    fs.sound AS first_sound,
    ls.sound AS last_sound,
    CASE WHEN b.last_name IS NULL THEN [] ELSE str_split(b.last_name, ' ') END AS last_parts,
    list_distinct(list_concat(
        str_split(concat_ws(' ', b.first_name, b.middle_name, b.last_name), ' '),
        flatten(list_transform(b.alias_names, lambda a: str_split(a, ' ')))
    )) AS name_tokens,
    list_distinct(flatten(list_transform(b.alias_names, lambda a: str_split(a, ' ')))) AS alias_tokens,
    list_filter(alias_tokens, lambda t: NOT list_contains(
        str_split(concat_ws(' ', b.first_name, b.middle_name, b.last_name), ' '), t)) AS alias_extra,
    list_filter(str_split(concat_ws(' ', b.first_name, b.middle_name), ' '), lambda t: t <> '') AS given_tokens,
    list_distinct(list_filter(list_concat(
        [coalesce(g.given_names[1], split_part(b.first_name, ' ', 1)) || '|' || ls.sound],
        CASE WHEN b.last_name LIKE '% %' THEN flatten(list_transform(coalesce(g.given_names, [split_part(b.first_name,
            ' ', 1)]), lambda n: list_transform(str_split(b.last_name, ' '), lambda p: n || '|' || nwd_sound(p))))
            ELSE list_transform(g.given_names[2:], lambda n: n || '|' || ls.sound) END,
        CASE WHEN len(b.alias_names) = 0 THEN [] ELSE list_transform(b.alias_names, lambda a: CASE WHEN a LIKE '% %'
            THEN split_part(a, ' ', 1) || '|' || nwd_sound(a[strlen(split_part(a, ' ', 1)) + 2:])
            ELSE a || '|' || ls.sound END) END
    ), lambda k: k IS NOT NULL)) AS name_keys,
    nwd_deletions(b.first_name) AS first_deletions,
    nwd_deletions(b.last_name) AS last_deletions,
    strftime(b.dob_date, '%Y-%m-%d') AS dob,
    year(b.dob_date) AS dob_year,
    b.dob_key,
    CASE WHEN b.dob_date IS NOT NULL THEN year(b.dob_date) WHEN b.age IS NOT NULL THEN year(b.age_day) - b.age - 1
        END AS birth_year_low,
    CASE WHEN b.dob_date IS NOT NULL THEN year(b.dob_date) WHEN b.age IS NOT NULL THEN year(b.age_day) - b.age
        END AS birth_year_high,
    coalesce(b.dob_date IS NULL AND b.age >= 18, false) AS stated_adult,
    b.sex, b.street_address, b.city, b.postcode, left(b.postcode, 3) AS zip3, b.county,
    b.phone_digits AS phone
FROM base b LEFT JOIN given g USING (unique_id)
    LEFT JOIN nwd_sounds fs ON fs.name = b.first_name
    LEFT JOIN nwd_sounds ls ON ls.name = b.last_name
ORDER BY b.unique_id;
DROP TABLE nwd_base; DROP TABLE nwd_sounds;
""")
    add_file_features(con, table)
    count: int = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return Prepared(table=table, rows=count)


# A given name on at most this share of a file's records is **uncommon** there: at
# 1,000,000 records, one on 300 or fewer (most of the long tail of names, none of the head).
UNCOMMON_GIVEN_SHARE = 3e-4


def add_file_features(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Add to ``table`` the features that depend on the whole file (how common each name is
    in it), in one pass over the table. They work on whatever the name columns hold, so
    the hub builds them from an encoded file's tokens as well (the deletions are tokenised
    at the agency like any name).

    **Spelling keys** (``spelling_keys``): blocking keys that agree when one record's first
    name or surname is one typing error away from the other's (Jocelyn Kreamekirt and
    Jocelyn Keamekirt; Ludrea and Lusrea Washington). Two names are **neighbours** when
    they share a one-letter deletion (``first_deletions``, ``last_deletions``: the name and
    each way of deleting one letter; names of one to three letters have too many
    neighbours and keep only themselves), which is one letter inserted, deleted or
    changed, or two letters swapped. Every name lists itself and its neighbours that are
    *more common* in ``table`` (ties broken by spelling), so a typing error lists the name
    it is an error of and a common name lists almost nothing: a record carries a handful
    of keys, not one per deletion, and records that share a name share a handful of keys,
    not dozens. The keys: a first-name variant with the surname sound, the given name with
    a surname variant, and a first-name variant with the day/month key.

    **A false name and a false adult age** (report ch. 3): such a record shares no name,
    date or age with the child's own records; what it may still share is her real first
    name recorded as an alias, her county and her sex.

    - ``uncommon_alias``: the record's alias words (``alias_extra``) that are an uncommon
      given name in ``table`` (``UNCOMMON_GIVEN_SHARE``). An alias that is the other
      record's given name is weak evidence when the name is Jessica and strong when it is
      Quenby; the model weighs the two apart. A file of fewer than about 3,400 records has
      no uncommon names (one record is already more than the share).
    - ``adult_keys``: blocking keys, one-sided so that their cost stays with the few
      records that stated an adult age. ``a|`` keys (an alias word, county, sex) exist only
      on those records, ``o|`` keys (a given-name word, county, sex) on every record; the
      blocking rules pair an ``a|`` key with the same ``o|`` key, never two ``o|`` keys."""
    con.execute(f"""
CREATE OR REPLACE TEMP TABLE nwd_variants AS
WITH names AS (
    SELECT 'first' AS part, first_name AS name, count(*) AS n, any_value(first_deletions) AS deletions
    FROM {table} WHERE first_name IS NOT NULL GROUP BY 2
    UNION ALL
    SELECT 'last', last_name, count(*), any_value(last_deletions)
    FROM {table} WHERE last_name IS NOT NULL GROUP BY 2
), deleted AS (SELECT part, name, n, unnest(deletions) AS deletion FROM names)
SELECT a.part, a.name, list(DISTINCT b.name) AS more_common
FROM deleted a JOIN deleted b ON a.part = b.part AND a.deletion = b.deletion AND a.name <> b.name
WHERE b.n > a.n OR (b.n = a.n AND b.name > a.name)
GROUP BY a.part, a.name;
CREATE OR REPLACE TEMP TABLE nwd_uncommon AS
WITH given AS (SELECT unnest(list_distinct(given_tokens)) AS name FROM {table}),
counts AS (SELECT name, count(*) AS n FROM given GROUP BY name),
aliases AS (SELECT unique_id, unnest(alias_extra) AS name FROM {table} WHERE len(alias_extra) > 0)
SELECT a.unique_id, list(DISTINCT a.name) AS uncommon_alias FROM aliases a JOIN counts c USING (name)
WHERE c.n <= {UNCOMMON_GIVEN_SHARE!r} * (SELECT count(*) FROM {table})
GROUP BY a.unique_id;
CREATE OR REPLACE TABLE {table} AS
WITH v AS (
    SELECT r.*,
        list_concat([r.first_name], coalesce(f.more_common, [])) AS first_variants,
        list_concat([r.last_name], coalesce(l.more_common, [])) AS last_variants,
        coalesce(u.uncommon_alias, []) AS uncommon_alias
    FROM {table} r
    LEFT JOIN nwd_variants f ON f.part = 'first' AND f.name = r.first_name
    LEFT JOIN nwd_variants l ON l.part = 'last' AND l.name = r.last_name
    LEFT JOIN nwd_uncommon u ON u.unique_id = r.unique_id
)
SELECT * EXCLUDE (first_variants, last_variants),
    list_distinct(list_filter(list_concat(
        list_transform(first_variants, lambda v: 'f|' || v || '|' || last_sound),
        list_transform(last_variants, lambda v: 'l|' || first_key || '|' || v),
        list_transform(first_variants, lambda v: 'd|' || v || '|' || dob_key)
    ), lambda k: k IS NOT NULL)) AS spelling_keys,
    CASE WHEN county IS NULL OR sex IS NULL THEN [] ELSE list_concat(
        list_transform(given_tokens, lambda t: 'o|' || t || '|' || county || '|' || sex),
        CASE WHEN stated_adult THEN list_transform(alias_extra, lambda t: 'a|' || t || '|' || county || '|' || sex)
            ELSE [] END
    ) END AS adult_keys
FROM v ORDER BY unique_id;
DROP TABLE nwd_variants; DROP TABLE nwd_uncommon;
""")
