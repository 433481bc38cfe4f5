"""Disclosure control.

What this file proves (on random tables, with hypothesis, and on hand-made cases):

- no shown cell, total or grand total is from 1 to 10;
- no masked cell can be recovered: an audit written here independently of the
  implementation (unknowns: the interior cells; constraints: every shown cell and
  total, and masked cells >= 1) finds each masked cell's least and greatest value
  different; the same for masked totals;
- two masked 1s in a row are not left alone (their total would give them away); a
  masked cell bridging two groups in a two-way table gets company;
- shared totals imposed from another table stay as imposed;
- rates are shown only when both counts are; spreadsheet formulas are neutralised.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from nowrongdoor.analytics.disclosure import Grid, neutralise, protect_grid, rate

VALUES = [0, 0, 1, 2, 3, 5, 8, 10, 11, 12, 15, 40, 120]


def audit(grid: Grid) -> list[str]:
    """Masked cells and totals whose value is determined by what is shown."""
    height, width = len(grid.rows), len(grid.columns)
    unknown = [(r, c) for r in range(height) for c in range(width) if grid.mask[r][c]]
    position = {cell: k for k, cell in enumerate(unknown)}
    if not unknown:
        return []
    equations: list[tuple[list[tuple[int, int]], float]] = []

    def add(cells: list[tuple[int, int]], total: int) -> None:
        known = sum(grid.cells[r][c] for r, c in cells if not grid.mask[r][c])
        masked = [cell for cell in cells if grid.mask[cell[0]][cell[1]]]
        if masked:
            equations.append((masked, float(total - known)))

    for r in range(height):
        if not grid.row_mask[r]:
            add([(r, c) for c in range(width)], grid.row_totals[r])
    for c in range(width):
        if not grid.column_mask[c]:
            add([(r, c) for r in range(height)], grid.column_totals[c])
    if not grid.total_mask:
        add([(r, c) for r in range(height) for c in range(width)], grid.total)
    a_eq = np.zeros((max(1, len(equations)), len(unknown)))
    b_eq = np.zeros(max(1, len(equations)))
    for k, (cells, value) in enumerate(equations):
        for cell in cells:
            a_eq[k, position[cell]] = 1
        b_eq[k] = value
    bounds = [(1, None)] * len(unknown)

    def span(objective: np.ndarray) -> float:
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        assert low.status in (0, 3) and high.status in (0, 3), "the truth satisfies the constraints"
        if high.status == 3 or low.status == 3:
            return float("inf")
        return float(-high.fun - low.fun)

    exposed = []
    for cell in unknown:
        objective = np.zeros(len(unknown))
        objective[position[cell]] = 1
        if span(objective) < 0.5:
            exposed.append(f"cell {cell}")
    for r in range(height):  # a masked row total is the sum of its masked cells plus the shown ones
        if grid.row_mask[r] and any(grid.mask[r]):
            objective = np.zeros(len(unknown))
            for c in range(width):
                if grid.mask[r][c]:
                    objective[position[(r, c)]] = 1
            if span(objective) < 0.5:
                exposed.append(f"row total {r}")
    for c in range(width):
        if grid.column_mask[c] and any(grid.mask[r][c] for r in range(height)):
            objective = np.zeros(len(unknown))
            for r in range(height):
                if grid.mask[r][c]:
                    objective[position[(r, c)]] = 1
            if span(objective) < 0.5:
                exposed.append(f"column total {c}")
    return exposed


def shown_small(grid: Grid) -> list[str]:
    small = [f"cell {r},{c}" for r, row in enumerate(grid.cells) for c, v in enumerate(row)
             if 1 <= v <= 10 and not grid.mask[r][c]]
    small += [f"row total {r}" for r, v in enumerate(grid.row_totals) if 1 <= v <= 10 and not grid.row_mask[r]]
    small += [f"column total {c}" for c, v in enumerate(grid.column_totals)
              if 1 <= v <= 10 and not grid.column_mask[c]]
    if 1 <= grid.total <= 10 and not grid.total_mask:
        small.append("grand total")
    return small


def masked_zero_margins_consistent(grid: Grid) -> bool:
    """A masked total must have a masked cell in its line (or the line is all masked)."""
    for r in range(len(grid.rows)):
        if grid.row_mask[r] and not any(grid.mask[r]) and grid.row_totals[r] > 10:
            return False
    return True


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 5).flatmap(lambda h: st.integers(1, 5).flatmap(
    lambda w: st.lists(st.lists(st.sampled_from(VALUES), min_size=w, max_size=w), min_size=h, max_size=h))))
def test_no_small_cell_is_shown_and_no_masked_cell_can_be_recovered(cells: list[list[int]]) -> None:
    grid = protect_grid(Grid([f"r{i}" for i in range(len(cells))], [f"c{j}" for j in range(len(cells[0]))],
                             cells))
    assert shown_small(grid) == []
    assert audit(grid) == []
    assert all(not grid.mask[r][c] for r, row in enumerate(cells) for c, v in enumerate(row) if v == 0), \
        "a zero says nothing about a child and is shown"


def test_two_masked_ones_in_a_row_get_a_third() -> None:
    grid = protect_grid(Grid(["a", "b", "c", "d"], ["n"], [[1], [1], [30], [40]]))
    assert [m[0] for m in grid.mask] == [True, True, True, False]
    assert not grid.total_mask and audit(grid) == []


def test_a_lone_small_cell_in_a_two_way_table_is_protected_with_a_cycle() -> None:
    grid = protect_grid(Grid(["a", "b", "c"], ["x", "y", "z"], [[5, 20, 30], [40, 33, 25], [12, 14, 50]]))
    assert grid.mask[0][0] and sum(map(sum, grid.mask)) == 4, grid.mask
    assert audit(grid) == []


def test_totals_imposed_by_another_table_keep_their_mask() -> None:
    # b's and c's totals were masked in the headline table (which protected them there):
    # here they stay masked, and enough of their cells are masked that they stay hidden.
    grid = Grid(["a", "b", "c"], ["x", "y"], [[20, 25], [30, 18], [14, 16]])
    protect_grid(grid, row_totals_masked=[False, True, True], total_masked=False)
    assert grid.row_mask == [False, True, True] and not grid.total_mask
    assert audit(grid) == []


def test_rates_need_both_counts_and_formulas_are_neutralised() -> None:
    assert rate(None, 40) is None and rate(3, None) is None and rate(0, 0) is None
    assert rate(10, 40) == pytest.approx(0.25)
    assert [neutralise(v) for v in ["=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "Alder", 5]] == \
        ["'=1+1", "'+SUM(A1)", "'-2", "'@cmd", "'\tx", "Alder", 5]
