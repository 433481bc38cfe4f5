"""Disclosure control: what may be shown to someone without row-level rights.

A **count table** is a list of cells (counts of youth, reports, tasks...) and the sums
that tie them together: each row total is the sum of its row, each column total the
sum of its column, the grand total the sum of either. Everything published (a
dashboard, an export, an API answer) is such a table, after ``protect``:

1. **Primary suppression.** Every cell from 1 to 10 is masked, totals included (the
   rule of California's public child-welfare indicator reports). Zero is shown: it
   says nothing about a child.
2. **Complementary suppression.** A masked cell must not be recoverable from what is
   shown. ``protect`` audits every masked cell with two linear programmes (its least
   and greatest value given every shown cell, every sum, and that a masked cell is at
   least 1, which an attacker knowing this rule would assume); a cell whose least and
   greatest value are equal is exposed, and the smallest shown non-zero cell of one
   of its sums is masked too. This repeats until no masked cell is exposed. (The
   common "two masked cells per row" rule is not enough: two masked cells that are
   both 1 are recovered from the total, and in two-way tables a masked cell that
   bridges two otherwise separate groups is recovered exactly.)
3. **Fixed cells.** Totals that other published tables share (a county's number of
   identified youth appears in every breakdown of them) can be passed in ``masked``,
   already decided, and ``shared`` keeps ``protect`` from masking further shared cells,
   so every table shows them the same way.

Rates are shown only when both their numerator and denominator are shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog

SMALL_MIN, SMALL_MAX = 1, 10


@dataclass
class CountTable:
    """Cells and the sums between them: ``sums`` holds (total cell, member cells)."""

    values: list[int]
    sums: list[tuple[int, list[int]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for total, members in self.sums:
            if self.values[total] != sum(self.values[m] for m in members):
                raise ValueError(f"cell {total} is not the sum of cells {members}")


def is_small(value: int) -> bool:
    return SMALL_MIN <= value <= SMALL_MAX


def feasible_ranges(table: CountTable, masked: Sequence[bool]) -> dict[int, tuple[float, float]]:
    """For every masked cell, its least and greatest value given what is shown (the
    attacker's view: shown cells are known, every sum holds, a masked cell is >= 1).

    Only masked cells are unknowns, and only sums holding one are constraints; each
    group of masked cells tied together by sums is solved on its own (small problems)."""
    unknown = [i for i, m in enumerate(masked) if m]
    if not unknown:
        return {}
    constraints: list[tuple[dict[int, float], float]] = []  # coefficients on unknowns, right-hand side
    for total, members in table.sums:
        coefficients: dict[int, float] = {}
        rhs = 0.0
        for cell, sign in ((total, -1.0), *((m, 1.0) for m in members)):
            if masked[cell]:
                coefficients[cell] = coefficients.get(cell, 0.0) + sign
            else:
                rhs -= sign * table.values[cell]
        if coefficients:
            constraints.append((coefficients, rhs))
    parent = {cell: cell for cell in unknown}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for coefficients, _ in constraints:
        first, *rest = coefficients
        for other in rest:
            parent[find(other)] = find(first)
    groups: dict[int, list[int]] = {}
    for cell in unknown:
        groups.setdefault(find(cell), []).append(cell)
    ranges: dict[int, tuple[float, float]] = {}
    for cells in groups.values():
        position = {cell: k for k, cell in enumerate(cells)}
        rows = [(c, rhs) for c, rhs in constraints if next(iter(c)) in position]
        a_eq = np.zeros((max(1, len(rows)), len(cells)))
        b_eq = np.zeros(max(1, len(rows)))
        for k, (coefficients, rhs) in enumerate(rows):
            for cell, coefficient in coefficients.items():
                a_eq[k, position[cell]] = coefficient
            b_eq[k] = rhs
        bounds = [(1.0, None)] * len(cells)
        for cell, k in position.items():
            objective = np.zeros(len(cells))
            objective[k] = 1.0
            low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            least = low.fun if low.status == 0 else float("-inf")
            most = -high.fun if high.status == 0 else float("inf")  # status 3: unbounded
            ranges[cell] = (least, most)
    return ranges


def _exposed(table: CountTable, masked: Sequence[bool]) -> list[int]:
    return [cell for cell, (least, most) in feasible_ranges(table, masked).items() if most - least < 0.5]


def protect(table: CountTable, *, masked: Iterable[int] = (), shared: Iterable[int] = ()) -> list[bool]:
    """Which cells to mask: primary (1-10) plus complementary cells until none is exposed.

    ``masked``: cells already masked elsewhere (kept masked). ``shared``: cells other
    tables also show, never chosen as complementary cells (their mask is decided once).
    """
    mask = [is_small(v) for v in table.values]
    for cell in masked:
        mask[cell] = True
    fixed = set(shared)
    in_sums: dict[int, list[tuple[int, list[int]]]] = {}
    for total, members in table.sums:
        for cell in (total, *members):
            in_sums.setdefault(cell, []).append((total, members))
    while True:
        # Cheap first: no sum may hold exactly one masked cell (it would be its difference).
        changed = True
        while changed:
            changed = False
            for total, members in table.sums:
                line = (total, *members)
                if sum(mask[x] for x in line) == 1:
                    lone = next(x for x in line if mask[x])
                    choice = _complement(table, mask, fixed, [(total, members)], in_sums)
                    if choice is None:
                        choice = _complement(table, mask, fixed, in_sums.get(lone, []), in_sums)
                    if choice is not None:
                        mask[choice] = changed = True
        # Then the audit: every masked cell's feasible range, by linear programming.
        exposed = _exposed(table, mask)
        if not exposed:
            return mask
        progressed = False
        touched: set[int] = set()  # sums that gained a masked cell this round
        for cell in exposed:
            sums_of_cell = in_sums.get(cell, [])
            if any(id(members) in touched for _, members in sums_of_cell):
                continue  # the next audit tells whether that was enough
            choice = _complement(table, mask, fixed, sums_of_cell, in_sums)
            if choice is not None:
                mask[choice] = progressed = True
                touched.update(id(members) for _, members in in_sums.get(choice, []))
        if not progressed:
            # Nothing left to mask beside it in any sum: mask every non-zero cell of its sums.
            for cell in exposed:
                for total, members in in_sums.get(cell, []):
                    for other in (total, *members):
                        if table.values[other] > 0 and other not in fixed:
                            mask[other] = True
            if not _exposed(table, mask):
                return mask
            return [v > 0 for v in table.values]  # last resort: show only zeros


def _complement(table: CountTable, mask: Sequence[bool], fixed: set[int],
                sums: list[tuple[int, list[int]]],
                in_sums: dict[int, list[tuple[int, list[int]]]]) -> int | None:
    """A shown non-zero cell of one of the sums to mask with it: members before totals,
    then cells whose other sums already hold a masked cell (closing a cycle, so fewer
    cells are lost), then the smallest."""
    candidates: list[tuple[int, int, int, int]] = []
    for total, members in sums:
        for rank, cells in enumerate((members, [total])):
            for other in cells:
                if not mask[other] and table.values[other] > 0 and other not in fixed:
                    company = sum(any(mask[x] for x in (t, *m)) for t, m in in_sums.get(other, [])
                                  if (t, m) not in sums)
                    candidates.append((rank, -company, table.values[other], other))
    return min(candidates)[3] if candidates else None


# -- tables shaped like a grid -------------------------------------------------------------

@dataclass
class Grid:
    """A two-way table of counts (rows x columns) with row totals, column totals and the
    grand total; a one-way table is a grid with one column. ``mask`` is filled by
    ``protect_grid``; a masked cell is published as None."""

    rows: list[str]
    columns: list[str]
    cells: list[list[int]]
    mask: list[list[bool]] = field(default_factory=list)
    row_mask: list[bool] = field(default_factory=list)
    column_mask: list[bool] = field(default_factory=list)
    total_mask: bool = False

    @property
    def row_totals(self) -> list[int]:
        return [sum(row) for row in self.cells]

    @property
    def column_totals(self) -> list[int]:
        return [sum(row[c] for row in self.cells) for c in range(len(self.columns))]

    @property
    def total(self) -> int:
        return sum(self.row_totals)

    def shown(self, r: int, c: int) -> int | None:
        return None if self.mask[r][c] else self.cells[r][c]

    def shown_row_total(self, r: int) -> int | None:
        return None if self.row_mask[r] else self.row_totals[r]

    def shown_column_total(self, c: int) -> int | None:
        return None if self.column_mask[c] else self.column_totals[c]

    def shown_total(self) -> int | None:
        return None if self.total_mask else self.total

    def as_count_table(self) -> tuple[CountTable, dict[str, int]]:
        """The grid as a count table; index: 'r,c' cells, 'r,' row totals, ',c' column totals, ',' total."""
        values: list[int] = []
        index: dict[str, int] = {}
        width, height = len(self.columns), len(self.rows)
        for r, row in enumerate(self.cells):
            for c, value in enumerate(row):
                index[f"{r},{c}"] = len(values)
                values.append(value)
        # In a one-way table a row (or column) total is the cell itself: the same entry.
        for r, value in enumerate(self.row_totals):
            if width == 1:
                index[f"{r},"] = index[f"{r},0"]
            else:
                index[f"{r},"] = len(values)
                values.append(value)
        for c, value in enumerate(self.column_totals):
            if height == 1:
                index[f",{c}"] = index[f"0,{c}"]
            else:
                index[f",{c}"] = len(values)
                values.append(value)
        if width == 1 and height > 1:
            index[","] = index[",0"]
        elif height == 1 and width > 1:
            index[","] = index["0,"]
        elif width == 1 and height == 1:
            index[","] = index["0,0"]
        else:
            index[","] = len(values)
            values.append(self.total)
        sums: list[tuple[int, list[int]]] = []
        if width > 1:
            sums += [(index[f"{r},"], [index[f"{r},{c}"] for c in range(width)]) for r in range(height)]
        if height > 1:
            sums += [(index[f",{c}"], [index[f"{r},{c}"] for r in range(height)]) for c in range(width)]
        if width > 1 and height > 1:
            sums.append((index[","], [index[f"{r},"] for r in range(height)]))
            sums.append((index[","], [index[f",{c}"] for c in range(width)]))
        table = CountTable(values, sums)
        return table, index


def protect_grid(grid: Grid, *, row_totals_masked: Sequence[bool] | None = None,
                 total_masked: bool | None = None) -> Grid:
    """Mask ``grid`` in place (see ``protect``) and return it. ``row_totals_masked`` and
    ``total_masked`` impose the masks another table already decided for the same
    totals (e.g. each county's number of identified youth); those totals are then not
    used as complementary cells."""
    table, index = grid.as_count_table()
    height, width = len(grid.rows), len(grid.columns)
    forced: list[int] = []
    shared: list[int] = []
    if row_totals_masked is not None:
        shared += [index[f"{r},"] for r in range(height)]
        forced += [index[f"{r},"] for r in range(height) if row_totals_masked[r]]
    if total_masked is not None:
        shared.append(index[","])
        if total_masked:
            forced.append(index[","])
    mask = protect(table, masked=forced, shared=shared)
    grid.mask = [[mask[index[f"{r},{c}"]] for c in range(width)] for r in range(height)]
    grid.row_mask = [mask[index[f"{r},"]] for r in range(height)]
    grid.column_mask = [mask[index[f",{c}"]] for c in range(width)]
    grid.total_mask = mask[index[","]]
    return grid


def rate(numerator: int | None, denominator: int | None) -> float | None:
    """A share, shown only when both counts are shown and the denominator is not zero."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: object) -> object:
    """A CSV cell a spreadsheet would run as a formula (starting with =, +, -, @, tab or
    carriage return) gets a leading apostrophe; numbers are left alone."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell
