"""The contract of the batch command ``link-file`` (``linkfile.link_file`` and the CLI).

A malformed file is refused as a whole, with every problem named by row and column, and
nothing is written; a file without ``record_id``, of the wrong kind or missing is refused
with a clear message. Columns the command does not know are ignored, and a file of only
ids and names links. Parquet and CSV of the same records give the same youth. A model
trained on a file with ``--train --save-model`` can be read back, and linking with it
gives the same youth as the run that trained it. The command line exits 0 with a summary,
1 on malformed input and 2 on contradictory thresholds. A higher link threshold never
joins more. All records come from the synthetic generator or are invented.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from nowrongdoor.identity.features import InputInvalid
from nowrongdoor.identity.linkfile import LinkFileResult, link_file
from nowrongdoor.identity.model import ModelFile, Thresholds
from nowrongdoor.synth.people import COLUMNS, REFERENCE_DATE, population, write_population

CLI = "import sys; from nowrongdoor.cli import main; sys.exit(main(sys.argv[1:]))"
PROBLEM = re.compile(r"^row (\d+), column (\w+): ")


def run_cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-c", CLI, "link-file", *map(str, args)], cwd=cwd, capture_output=True, text=True,
        timeout=300, check=False)


def write_rows(path: Path, rows: list[dict[str, str]], columns: list[str] | tuple[str, ...]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def youth(out: Path) -> set[frozenset[str]]:
    """The clusters of ``out/clusters.csv`` as sets of record ids (cluster ids are labels)."""
    clusters: dict[str, set[str]] = {}
    with (out / "clusters.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            clusters.setdefault(row["cluster_id"], set()).add(row["record_id"])
    return {frozenset(members) for members in clusters.values()}


def pairs(out: Path) -> dict[frozenset[str], float]:
    with (out / "pairs.csv").open(newline="") as f:
        return {frozenset((r["record_id_l"], r["record_id_r"])): float(r["match_probability"])
                for r in csv.DictReader(f)}


def malformed_rows() -> list[dict[str, str]]:
    """Five records: row 1 is fine but its id comes back in row 3; row 2 has a month 13,
    row 4 an age in words, row 5 an unknown sex code."""
    fine = {"first_name": "Ondine", "last_name": "Quarrelsby", "sex": "F"}
    return [
        {**fine, "record_id": "TEST-BAD-1", "birth_date": "2012-05-01"},
        {**fine, "record_id": "TEST-BAD-2", "birth_date": "2012-13-01"},
        {**fine, "record_id": "TEST-BAD-1", "sex": "unknown"},
        {**fine, "record_id": "TEST-BAD-4", "age_stated": "fifteen", "age_recorded_on": "2025-03-02"},
        {**fine, "record_id": "TEST-BAD-5", "sex": "z"},
    ]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 800 records of 300 synthetic people, everyday noise."""
    records, _, _ = write_population(tmp_path_factory.mktemp("small"), seed=5, people=300, noise="standard")
    return records


@pytest.fixture(scope="module")
def small_linked(small: Path) -> tuple[LinkFileResult, Path]:
    out = small.parent / "out-csv"
    return link_file(small, out, today=REFERENCE_DATE), out


@pytest.fixture(scope="module")
def malformed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_rows(tmp_path_factory.mktemp("malformed") / "records.csv", malformed_rows(), COLUMNS)


# Malformed input -----------------------------------------------------------------------

def test_malformed_file_names_every_row_and_column(malformed: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(InputInvalid) as caught:
        link_file(malformed, out, today=REFERENCE_DATE)
    problems = caught.value.problems
    named = {(int(m[1]), m[2]) for m in map(PROBLEM.match, problems) if m}
    assert len(named) == len(problems), f"problems not in 'row N, column C:' form: {problems}"
    # Rows count records (the header is not a row); both rows of the duplicate id are named.
    assert named == {(1, "record_id"), (2, "birth_date"), (3, "record_id"), (4, "age_stated"), (5, "sex")}, problems
    text = "\n".join(problems)
    for value in ("2012-13-01", "TEST-BAD-1", "fifteen", "'z'"):
        assert value in text
    assert not (out / "clusters.csv").exists()
    assert not (out / "pairs.csv").exists()


def test_decimal_age_is_refused(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "records.csv", [{"record_id": "TEST-DEC-1", "first_name": "Ondine",
                                                  "last_name": "Quarrelsby", "age_stated": "15.5"}],
                      ["record_id", "first_name", "last_name", "age_stated"])
    with pytest.raises(InputInvalid) as caught:
        link_file(path, tmp_path / "out", today=REFERENCE_DATE)
    assert caught.value.problems[0].startswith("row 1, column age_stated:")


def test_missing_record_id_column_is_named(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "records.csv", [{"id": "TEST-1", "first_name": "Ondine", "last_name": "Quarrelsby"}],
                      ["id", "first_name", "last_name"])
    with pytest.raises(InputInvalid) as caught:
        link_file(path, tmp_path / "out", today=REFERENCE_DATE)
    assert "record_id" in caught.value.problems[0]
    assert not (tmp_path / "out" / "clusters.csv").exists()


@pytest.mark.parametrize(("name", "exists", "message"), [
    ("records.xlsx", True, "expected a .csv, .txt (CSV) or .parquet file"),
    ("records.json", True, "expected a .csv, .txt (CSV) or .parquet file"),
    ("absent.csv", False, "no such file"),
])
def test_wrong_kind_or_missing_file_is_refused(tmp_path: Path, name: str, exists: bool, message: str) -> None:
    path = tmp_path / name
    if exists:
        write_rows(path, [{"record_id": "TEST-1", "first_name": "Ondine"}], ["record_id", "first_name"])
    with pytest.raises(InputInvalid) as caught:
        link_file(path, tmp_path / "out", today=REFERENCE_DATE)
    assert message in caught.value.problems[0]
    assert name in caught.value.problems[0]


# What the input may look like ----------------------------------------------------------

def test_names_only_and_unknown_columns(tmp_path: Path) -> None:
    """A file of only record_id and names links; unknown columns (and header case) change nothing."""
    rows = [r.row() for r in population(seed=9, people=150, noise="standard")]
    plain = write_rows(tmp_path / "plain.csv", rows, ["record_id", "first_name", "last_name"])
    result = link_file(plain, tmp_path / "plain", today=REFERENCE_DATE)
    assert result.records == len(rows)
    assert set().union(*youth(tmp_path / "plain")) == {r["record_id"] for r in rows}

    extra = [{"Record_ID": r["record_id"], "First_Name": r["first_name"], "LAST_NAME": r["last_name"],
              "favourite_colour": "teal" if i % 2 else "ochre", "caseworker_note": f"note {i}; see file"}
             for i, r in enumerate(rows)]
    noisy = write_rows(tmp_path / "noisy.csv", extra, ["caseworker_note", "Record_ID", "favourite_colour",
                                                          "First_Name", "LAST_NAME"])
    link_file(noisy, tmp_path / "noisy", today=REFERENCE_DATE)
    assert youth(tmp_path / "noisy") == youth(tmp_path / "plain")
    assert pairs(tmp_path / "noisy") == pairs(tmp_path / "plain")


@pytest.mark.parametrize("typed", [False, True], ids=["text-columns", "typed-columns"])
def test_parquet_gives_the_same_youth_as_csv(small: Path, small_linked: tuple[LinkFileResult, Path],
                                             tmp_path: Path, typed: bool) -> None:
    """The same records as Parquet, with text columns or with the types an export would
    give (dates as DATE, ages and digits as integers)."""
    parquet = tmp_path / "records.parquet"
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, all_varchar = ?)", [str(small), not typed]).fetchall()
    con.execute("COPY t TO '" + str(parquet).replace("'", "''") + "' (FORMAT parquet)").fetchall()
    if typed:
        types = dict(con.execute("SELECT name, type FROM parquet_schema(?)", [str(parquet)]).fetchall())
        assert types["birth_date"] == "INT32"  # stored as a date, not text
    con.close()
    result, csv_out = small_linked
    parquet_result = link_file(parquet, tmp_path / "out", today=REFERENCE_DATE)
    assert parquet_result.records == result.records
    assert youth(tmp_path / "out") == youth(csv_out)
    assert pairs(tmp_path / "out") == pairs(csv_out)


# Training ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path, int]:
    """``link-file --train --save-model`` through the command line on ~800 people, heavy noise."""
    directory = tmp_path_factory.mktemp("trained")
    records, _, count = write_population(directory, seed=17, people=800, noise="heavy")
    done = run_cli(records, "--out", directory / "out", "--train", "--save-model", directory / "model.json",
                   cwd=directory)
    return done, directory, count


def test_cli_train_exits_zero_with_summary(trained: tuple[subprocess.CompletedProcess[str], Path, int]) -> None:
    done, directory, count = trained
    assert done.returncode == 0, done.stderr
    assert re.search(rf"\b{count} records\b", done.stdout), done.stdout
    assert (directory / "out" / "clusters.csv").exists()


def test_saved_model_can_be_loaded(trained: tuple[subprocess.CompletedProcess[str], Path, int]) -> None:
    done, directory, count = trained
    assert done.returncode == 0, done.stderr
    model = ModelFile.load(directory / "model.json")
    assert model.kind == "nowrongdoor"
    assert model.records == count
    assert model.thresholds == Thresholds()
    assert model.splink["comparisons"]


def test_relinking_with_saved_model_gives_same_youth(trained: tuple[subprocess.CompletedProcess[str], Path, int]
                                                     ) -> None:
    done, directory, _ = trained
    assert done.returncode == 0, done.stderr
    link_file(directory / "records.csv", directory / "again", model_path=directory / "model.json")
    assert youth(directory / "again") == youth(directory / "out")
    assert pairs(directory / "again") == pairs(directory / "out")


# The command line ----------------------------------------------------------------------

def test_cli_malformed_input_exits_one_naming_row_and_column(malformed: Path, tmp_path: Path) -> None:
    done = run_cli(malformed, "--out", tmp_path / "out", cwd=tmp_path)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "row 2, column birth_date" in done.stderr
    assert "row 4, column age_stated" in done.stderr
    assert not (tmp_path / "out" / "clusters.csv").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--link-threshold", "0.5", "--review-threshold", "0.9"], "review <= link"),
    (["--save-model", "model.json"], "--save-model needs --train"),
], ids=["review-above-link", "save-model-without-train"])
def test_cli_contradictory_options_exit_two(small: Path, tmp_path: Path, args: list[str], message: str) -> None:
    done = run_cli(small, "--out", tmp_path / "out", *args, cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr
    assert not (tmp_path / "out" / "clusters.csv").exists()
    assert not (tmp_path / "model.json").exists()


def test_cli_missing_model_file_is_a_clear_error(small: Path, tmp_path: Path) -> None:
    done = run_cli(small, "--out", tmp_path / "out", "--model", tmp_path / "absent-model.json", cwd=tmp_path)
    assert done.returncode in (1, 2), (done.stdout, done.stderr)
    assert "absent-model.json" in done.stderr
    assert "Traceback" not in done.stderr


# Thresholds ----------------------------------------------------------------------------

def test_higher_link_threshold_never_joins_more(small: Path, tmp_path: Path) -> None:
    loose = link_file(small, tmp_path / "loose", thresholds=Thresholds(link=0.9, review=0.5), today=REFERENCE_DATE)
    strict = link_file(small, tmp_path / "strict", thresholds=Thresholds(link=0.999, review=0.5),
                       today=REFERENCE_DATE)
    assert strict.links <= loose.links
    assert strict.clusters >= loose.clusters
    assert pairs(tmp_path / "strict") == pairs(tmp_path / "loose")  # same review threshold, same pairs listed
    loose_youth = youth(tmp_path / "loose")
    assert all(any(group <= bigger for bigger in loose_youth) for group in youth(tmp_path / "strict"))
    between = [p for p in pairs(tmp_path / "loose").values() if 0.9 <= p < 0.999]
    assert between, "no pairs between the two link thresholds: the comparison would prove nothing"
    assert strict.links == loose.links - len(between)
