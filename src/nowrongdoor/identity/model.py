"""The linkage model: which pairs of records are compared, how, and how the evidence is
weighed (Fellegi-Sunter, through Splink).

Comparisons are written for this population (see ``features`` for the columns):

- **first name**: exact, the same given name through a nickname or short form, close
  spelling (edit distance), the same sound, or found among the other record's names;
- **middle name**: the same, or different (missing on either record is no evidence);
- **surname**: exact, a shared part of a hyphenated or double surname, close spelling,
  the same sound, or found among the other record's names and aliases (a changed surname);
- **aliases**: the same alias on both records, or an alias (other than the record's own
  names) that is the other's first or middle name, an uncommon name above a common one
  (the real first name on a record under a false name);
- **birth**: the same date; day and month swapped; only one of year, month and day
  different (a wrong digit, also where it carries: 2009 and 2010); two other
  dates; birth-year ranges that overlap (an age stated on a day); a **stated adult age**
  on a record whose range lies up to seven years before the other's (the false age a
  victim gives when arrested); ranges within two years; otherwise apart;
- **sex** (a missing value is no evidence), **place** (ZIP, its first three digits,
  county), **phone**, **street address**.

Parameters are trained without labels: ``u`` (how often levels agree by chance) by random
sampling, ``m`` (how often true matches agree) by expectation maximisation on three
blocking passes; the "different" level of phone, middle name, street address and sex is
then given a floor (``DISAGREEMENT_FLOORS``). A trained model is saved as a versioned
JSON file.

The **baseline** is plain Splink as most users would start: first and last name and date
of birth with exact and Levenshtein levels and default settings. The accuracy benchmark
runs both on the same data.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.blocking_rule_library import CustomRule

from nowrongdoor.identity.clustering import cluster_links

MODEL_FORMAT = 1
# 2: middle name; 3: spelling keys, encoded date parts; 4: alias_extra; 5: adult_keys, uncommon_alias
FEATURES_VERSION = 5
DEFAULT_MODEL = Path(__file__).with_name("content") / "linkage-model.json"

logging.getLogger("splink").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Thresholds:
    """Pairs at or above ``link`` are joined automatically; pairs from ``review`` up to
    ``link`` go to a person; below ``review`` nothing happens."""

    link: float = 0.95
    review: float = 0.80

    def __post_init__(self) -> None:
        if not 0 < self.review <= self.link < 1:
            raise ValueError("thresholds must satisfy 0 < review <= link < 1")


# The few SQL functions that differ between backends, in one place. Everything else in
# the comparisons is portable SQL.
DIALECTS: dict[str, dict[str, str]] = {
    "duckdb": {"overlap": "list_has_any({a}, {b})", "size": "len({a})", "edits": "levenshtein({a}, {b})"},
    "spark": {"overlap": "arrays_overlap({a}, {b})", "size": "size({a})", "edits": "levenshtein({a}, {b})"},
}


class _Sql:
    def __init__(self, dialect: str) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"no SQL dialect {dialect!r}; known: {', '.join(DIALECTS)}")
        self.f = DIALECTS[dialect]
        self.dialect = dialect

    def overlap(self, a: str, b: str) -> str:
        return self.f["overlap"].format(a=a, b=b)

    def either_overlap(self, a: str, b: str) -> str:
        """``a`` of one record meets ``b`` of the other, either way round."""
        return f"{self.overlap(f'{a}_l', f'{b}_r')} OR {self.overlap(f'{a}_r', f'{b}_l')}"

    def alike(self, column: str) -> str:
        """Spelled alike: one edit apart, two for names of six letters or more. (Edit
        distance, not Jaro-Winkler: the backends' Jaro-Winkler implementations differ
        near any threshold, Levenshtein distance is the same everywhere.)"""
        a, b = f"{column}_l", f"{column}_r"
        edits = self.f["edits"].format(a=a, b=b)
        return f"{edits} <= CASE WHEN least(length({a}), length({b})) >= 6 THEN 2 ELSE 1 END"

    def one_date_part_different(self, column: str) -> str:
        """Two ISO dates agree in two of year, month and day (a wrong digit, also one that
        carries: 2009 and 2010)."""
        a, b = f"{column}_l", f"{column}_r"
        return (f"(substr({a}, 1, 7) = substr({b}, 1, 7) OR substr({a}, 6, 5) = substr({b}, 6, 5) OR "
                f"(substr({a}, 1, 4) = substr({b}, 1, 4) AND substr({a}, 9, 2) = substr({b}, 9, 2)))")

    def both_empty(self, column: str) -> str:
        size = self.f["size"]
        return f"({size.format(a=f'{column}_l')} = 0 AND {size.format(a=f'{column}_r')} = 0)"


def _level(sql: str, label: str) -> cll.CustomLevel:
    return cll.CustomLevel(sql, label)


def _null(*columns: str) -> dict[str, Any]:
    either = " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in columns)
    return {"sql_condition": either, "label_for_charts": "missing on one record", "is_null_level": True}


def _dice(column: str, at_least: float) -> str:
    """Dice coefficient of two Bloom filters (DuckDB bitstrings) at least ``at_least``."""
    return (f"bit_count({column}_l) > 0 AND bit_count({column}_r) > 0 AND 2.0 * bit_count({column}_l & {column}_r) "
            f"/ (bit_count({column}_l) + bit_count({column}_r)) >= {at_least}")


def comparisons(encoded: bool = False, dialect: str = "duckdb") -> list[cl.CustomComparison]:
    """Our comparisons, most specific level first. ``encoded``: the privacy-preserving
    variant, where spelling similarity is the Dice coefficient of the names' Bloom
    filters and a date is "one of year, month and day different" where clear text sees "one
    character different" (DuckDB only)."""
    q = _Sql(dialect)
    if encoded and dialect != "duckdb":
        raise ValueError("the privacy-preserving comparisons run on DuckDB only (Bloom filters as bitstrings)")
    first_alike = _dice("first_bloom", 0.7) if encoded else q.alike("first_name")
    last_alike = _dice("last_bloom", 0.7) if encoded else q.alike("last_name")
    one_part = q.overlap("dob_parts_l", "dob_parts_r") if encoded else q.one_date_part_different("dob")
    one_off = _level(f"dob_l IS NOT NULL AND dob_r IS NOT NULL AND {one_part}", "one of year, month and day different")
    street_alike = [] if encoded else [_level(q.alike("street_address"), "spelled alike")]
    return [
        cl.CustomComparison([
            _null("first_name"),
            cll.ExactMatchLevel("first_name", term_frequency_adjustments=True),
            _level(q.overlap("given_names_l", "given_names_r"), "same given name (nickname or short form)"),
            _level(first_alike, "spelled alike"),
            _level("first_sound_l = first_sound_r", "sounds alike"),
            _level(q.either_overlap("given_names", "name_tokens"), "among the other record's names"),
            cll.ElseLevel(),
        ], output_column_name="first_name", comparison_description="first name"),
        cl.CustomComparison([
            _null("last_name"),
            cll.ExactMatchLevel("last_name", term_frequency_adjustments=True),
            _level(q.overlap("last_parts_l", "last_parts_r"), "shares a surname part"),
            _level(last_alike, "spelled alike"),
            _level("last_sound_l = last_sound_r", "sounds alike"),
            _level(q.either_overlap("last_parts", "alias_tokens"),
                   "among the other record's aliases (changed surname)"),
            cll.ElseLevel(),
        ], output_column_name="last_name", comparison_description="surname"),
        cl.CustomComparison([
            _null("middle_name"),
            cll.ExactMatchLevel("middle_name", term_frequency_adjustments=True),
            cll.ElseLevel(),
        ], output_column_name="middle_name", comparison_description="middle name"),
        cl.CustomComparison([
            {"sql_condition": q.both_empty("alias_tokens"), "label_for_charts": "no aliases", "is_null_level": True},
            _level(q.overlap("alias_tokens_l", "alias_tokens_r"), "same alias"),
            # Not the record's own name again (a changed surname's alias "Destiny Jones" on
            # Destiny Smith), and not the other's surname (the surname comparison has that):
            # counted twice, those made different children with one first name look certain.
            _level(q.either_overlap("uncommon_alias", "given_tokens"), "an alias is the other's uncommon given name"),
            _level(q.either_overlap("alias_extra", "given_tokens"), "an alias is the other's given name"),
            cll.ElseLevel(),
        ], output_column_name="aliases", comparison_description="aliases"),
        cl.CustomComparison([
            _null("birth_year_low"),
            _level("dob_l = dob_r", "same date of birth"),
            _level("dob_key_l = dob_key_r", "day and month swapped"),
            one_off,
            _level("dob_l IS NOT NULL AND dob_r IS NOT NULL", "different dates of birth"),
            _level("greatest(birth_year_low_l, birth_year_low_r) <= least(birth_year_high_l, birth_year_high_r)",
                   "birth years overlap"),
            _level("(stated_adult_l AND birth_year_high_r - birth_year_high_l BETWEEN 1 AND 7) OR "
                   "(stated_adult_r AND birth_year_high_l - birth_year_high_r BETWEEN 1 AND 7)",
                   "stated an adult age: plausibly a false one"),
            _level("abs(birth_year_low_l - birth_year_low_r) <= 2", "birth years within two"),
            cll.ElseLevel(),
        ], output_column_name="birth", comparison_description="date of birth or stated age"),
        cl.CustomComparison([
            _null("sex"),
            cll.ExactMatchLevel("sex"),
            cll.ElseLevel(),
        ], output_column_name="sex", comparison_description="sex"),
        cl.CustomComparison([
            {"sql_condition": "(postcode_l IS NULL AND county_l IS NULL) OR (postcode_r IS NULL AND county_r IS NULL)",
             "label_for_charts": "missing on one record", "is_null_level": True},
            _level("postcode_l = postcode_r", "same ZIP code"),
            _level("zip3_l = zip3_r", "same ZIP area"),
            _level("county_l = county_r", "same county"),
            cll.ElseLevel(),
        ], output_column_name="place", comparison_description="ZIP code and county"),
        cl.CustomComparison([
            _null("phone"),
            cll.ExactMatchLevel("phone"),
            cll.ElseLevel(),
        ], output_column_name="phone", comparison_description="phone"),
        cl.CustomComparison([
            _null("street_address"),
            cll.ExactMatchLevel("street_address"),
            *street_alike,
            cll.ElseLevel(),
        ], output_column_name="street_address", comparison_description="street address"),
    ]


def _adult_rule(adult: str, own: str) -> CustomRule:
    """An ``a|`` key of the ``adult`` side equal to the same ``o|`` key of the ``own``
    side (``features.add_file_features``): a hash join, with no ``o|``-``o|`` pairs."""
    return CustomRule(f"{own}.adult_keys = 'o' || substr({adult}.adult_keys, 2) AND left({adult}.adult_keys, 1) = 'a'",
                      sql_dialect="duckdb", arrays_to_explode=["adult_keys"])


def blocking_rules() -> list[Any]:
    """Which pairs are compared at all (a union of equi-joins). Measured on 1,000,000
    heavy-noise records (docs/identity-resolution.md, "Blocking"): each rule's share of the
    true pairs that no other rule finds, for its pairs per record; the one-sided adult-age
    keys find 0.6 % for 3.4, where a rule of first sound, surname sound and sex (dropped)
    found 0.01 % for 0.6. Dropped too: given name, county and birth year, 5.4 pairs per
    record (29 % of all) for 0.28 % of the true pairs, of which the model linked 4 in 4,893
    (and 33 pairs of different children): the records it alone pairs hold too little to
    link them."""
    return [
        block_on("dob_key", "substr(first_key, 1, 1)", "sex"),
        block_on("dob_key", "last_sound"),
        block_on("name_keys", arrays_to_explode=["name_keys"]),
        block_on("spelling_keys", arrays_to_explode=["spelling_keys"]),
        block_on("phone"),
        block_on("street_address", "zip3"),
        block_on("first_key", "middle_name"),
        _adult_rule("l", "r"),
        _adult_rule("r", "l"),
    ]


def settings(encoded: bool = False, dialect: str = "duckdb") -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons(encoded, dialect),  # type: ignore[arg-type]
        blocking_rules_to_generate_predictions=blocking_rules(),
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=["source"],
    )


def baseline_settings() -> SettingsCreator:
    """Plain Splink: names and date of birth, exact and Levenshtein levels, defaults."""
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.LevenshteinAtThresholds("first_name", [1, 2]),
            cl.LevenshteinAtThresholds("last_name", [1, 2]),
            cl.LevenshteinAtThresholds("dob", [1, 2]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "dob"), block_on("last_name", "dob"), block_on("first_name", "last_name"),
        ],
        additional_columns_to_retain=["source"],
    )


# Deterministic rules (almost no false positives) for the share of matching pairs.
_DETERMINISTIC: list[Any] = [
    "l.first_name = r.first_name AND l.last_name = r.last_name AND l.dob = r.dob",
    "l.phone = r.phone AND l.dob = r.dob",
]
_EM_PASSES = [block_on("dob"), block_on("phone"), block_on("first_key", "last_sound", "postcode")]
_BASELINE_EM = [block_on("dob"), block_on("first_name", "last_name")]


# The least share of true matches whose values disagree, per comparison. Training data
# (synthetic, or one agency's) may never show a youth's phone number changing or a sex
# recorded wrongly, and EM then learns that a disagreement all but rules a match out
# (-25 bits for a different phone). In the records agencies keep, phones change (prepaid
# phones, phones an exploiter controls), middle names are initials or missing, and sex is
# sometimes entered wrongly, so a disagreement is weaker evidence than that: its m
# probability is raised to the floor after training (the other levels scaled to match).
DISAGREEMENT_FLOORS = {"phone": 0.30, "middle_name": 0.10, "street_address": 0.10, "sex": 0.02}


def apply_floors(splink: dict[str, Any], floors: dict[str, float] = DISAGREEMENT_FLOORS) -> None:
    """Raise the m probability of the "different" level of each comparison in
    ``floors`` to at least its floor, keeping the comparison's m probabilities summing to 1."""
    for comparison in splink["comparisons"]:
        floor = floors.get(str(comparison["output_column_name"]))
        levels = [level for level in comparison["comparison_levels"] if not level.get("is_null_level")]
        if floor is None or not levels or levels[-1].get("m_probability") is None:
            continue
        other, last = levels[:-1], levels[-1]
        if float(last["m_probability"]) >= floor:
            continue
        rest = sum(float(level.get("m_probability") or 0) for level in other)
        for level in other:
            if level.get("m_probability") is not None and rest > 0:
                level["m_probability"] = float(level["m_probability"]) * (1 - floor) / rest
        last["m_probability"] = floor


@dataclass(frozen=True)
class ModelFile:
    """A saved model: Splink's settings and parameters plus what produced them."""

    format: int
    kind: str  # "nowrongdoor", "encoded" (privacy-preserving) or "baseline"
    features_version: int
    trained_on: str
    records: int
    thresholds: Thresholds
    splink: dict[str, Any]

    def save(self, path: Path) -> None:
        data = asdict(self)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> ModelFile:
        data = json.loads(path.read_text())
        if data.get("format") != MODEL_FORMAT or data.get("features_version") != FEATURES_VERSION:
            raise ValueError(f"{path}: model format {data.get('format')}/features {data.get('features_version')}"
                             f" is not {MODEL_FORMAT}/{FEATURES_VERSION}; retrain it")
        data["thresholds"] = Thresholds(**data["thresholds"])
        return cls(**data)


def _linker(con: duckdb.DuckDBPyConnection, table: str, model: SettingsCreator | dict[str, Any]) -> Linker:
    api = DuckDBAPI(connection=con)
    return Linker(api.register(table), model, log_level=logging.WARNING)


def train(con: duckdb.DuckDBPyConnection, table: str, *, kind: str = "nowrongdoor", u_pairs: float = 1e7,
          em_pairs: float = 1e6, seed: int = 1, trained_on: str = "", thresholds: Thresholds | None = None
          ) -> ModelFile:
    """Train a model of ``kind`` on the prepared ``table`` without labels: ``u`` from
    ``u_pairs`` random pairs, ``m`` by EM on at most about ``em_pairs`` pairs per pass.

    Measured on 1,000,000 heavy-noise records (benchmarks/README.md): EM on 1,000,000 pairs a
    pass instead of 3,000,000 trains in 6 s less with the same clusters' F1 (0.9522 and
    0.9521); ``u`` from 3,000,000 pairs instead of 10,000,000 saves 3 s and loses 0.0025."""
    baseline = kind == "baseline"
    linker = _linker(con, table, baseline_settings() if baseline else settings(encoded=kind == "encoded"))
    linker.training.estimate_probability_two_random_records_match(_DETERMINISTIC, recall=0.6)
    linker.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed)
    for rule in _BASELINE_EM if baseline else _EM_PASSES:
        linker.training.estimate_parameters_using_expectation_maximisation(rule, max_pairs=em_pairs,
                                                                           record_sample_proportion=0.05)
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    saved = linker.misc.save_model_to_json()
    if not baseline:
        apply_floors(saved)
    return ModelFile(
        format=MODEL_FORMAT, kind=kind, features_version=FEATURES_VERSION,
        trained_on=trained_on, records=int(rows), thresholds=thresholds or Thresholds(),
        splink=saved,
    )


@dataclass(frozen=True)
class LinkResult:
    pairs: str  # table: unique_id_l, unique_id_r, match_probability, match_weight, gamma/bf columns
    clusters: str | None  # table: unique_id, cluster_id (None: not clustered)
    compared: int  # pairs scored (after blocking)
    kept_apart: int = 0  # links the clustering refused (see ``clustering``): in ``{clusters}_refused``


def link(con: duckdb.DuckDBPyConnection, table: str, model: ModelFile, *, keep_above: float | None = None,
         keep_blocked: str | None = None, cluster: bool = True, evidence: bool = False) -> LinkResult:
    """Score every blocked pair of ``table`` and cluster at the model's link threshold.

    Pairs at or above ``keep_above`` (default: the review threshold) are kept in
    ``nwd_pairs``; clusters are written to ``nwd_clusters`` unless ``cluster`` is false
    (the platform clusters youth, not records: ``services``). ``keep_blocked`` names a
    table to keep every compared pair in (for measuring blocking recall). ``evidence``
    keeps each comparison's level (``gamma_*``) and the compared values with the pairs,
    as the review queue shows them; without them, scoring the 15.8 million pairs of
    1,000,000 records takes 21 s instead of 37 s (the values are in ``table``)."""
    linker = _linker(con, table, model.splink if evidence else {**model.splink, "retain_matching_columns": False})
    keep = model.thresholds.review if keep_above is None else keep_above
    blocked = linker.inference.compute_blocked_pairs_for_predict()  # cached: predict() scores these
    compared: int = con.execute(f"SELECT count(*) FROM {blocked.physical_name}").fetchall()[0][0]
    if keep_blocked:
        con.execute(f"CREATE OR REPLACE TABLE {keep_blocked} AS SELECT join_key_l AS unique_id_l, "
                    f"join_key_r AS unique_id_r FROM {blocked.physical_name}")
    predictions = linker.inference.predict(threshold_match_probability=keep, warning_mode="never")
    con.execute(f"CREATE OR REPLACE TABLE nwd_pairs AS SELECT * FROM {predictions.physical_name}")
    if not cluster:
        return LinkResult(pairs="nwd_pairs", clusters=None, compared=compared)
    if model.kind == "baseline":  # plain Splink: connected components
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=model.thresholds.link)
        con.execute(f"CREATE OR REPLACE TABLE nwd_clusters AS SELECT unique_id, cluster_id "
                    f"FROM {clusters.physical_name}")
        return LinkResult(pairs="nwd_pairs", clusters="nwd_clusters", compared=compared)
    clustered = cluster_links(con, table, "nwd_pairs", model.thresholds.link)
    return LinkResult(pairs="nwd_pairs", clusters=clustered.table, compared=compared, kept_apart=clustered.refused)


def link_new(con: duckdb.DuckDBPyConnection, table: str, new_table: str, old_table: str, model: ModelFile,
             *, keep_above: float | None = None) -> int:
    """Incremental linking: score the records of ``new_table`` against ``old_table`` and
    among themselves (never old against old), with name frequencies from all of
    ``table``. Pairs at or above ``keep_above`` go to ``nwd_pairs``; returns how many."""
    api = DuckDBAPI(connection=con)
    linker = Linker(api.register(table), model.splink, log_level=logging.WARNING)
    for column in tf_columns(model):
        linker.table_management.compute_tf_table(column)
    keep = model.thresholds.review if keep_above is None else keep_above
    new, old = api.register(new_table), api.register(old_table)
    between = linker.inference.predict_between(new, old, threshold_match_probability=keep, warning_mode="never")
    within = linker.inference.predict_within(new, threshold_match_probability=keep, warning_mode="never")
    con.execute(f"CREATE OR REPLACE TABLE nwd_pairs AS SELECT * FROM {between.physical_name} "
                f"UNION ALL BY NAME SELECT * FROM {within.physical_name}")
    count: int = con.execute("SELECT count(*) FROM nwd_pairs").fetchall()[0][0]
    return count


def tf_columns(model: ModelFile) -> list[str]:
    """The columns whose value frequencies adjust the model's weights (a rare name that
    agrees is stronger evidence than a common one)."""
    columns = {str(level["tf_adjustment_column"]) for comparison in model.splink["comparisons"]
               for level in comparison["comparison_levels"] if level.get("tf_adjustment_column")}
    return sorted(columns)


def evidence_labels(model: ModelFile) -> list[tuple[str, str, dict[int, str]]]:
    """(output column, description, {comparison vector value: level label}) per comparison."""
    out = []
    for comparison in model.splink["comparisons"]:
        levels = [level for level in comparison["comparison_levels"] if not level.get("is_null_level")]
        labels = {len(levels) - 1 - i: str(level.get("label_for_charts", "")) for i, level in enumerate(levels)}
        labels[-1] = "missing on one record"
        out.append((str(comparison["output_column_name"]), str(comparison.get("comparison_description", "")),
                    labels))
    return out


def prior_weight(model: ModelFile) -> float:
    """The weight every pair starts from: log2 of the prior odds that two records match."""
    lam = float(model.splink["probability_two_random_records_match"])
    return math.log2(lam / (1 - lam))
