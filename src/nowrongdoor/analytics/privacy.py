"""Differential privacy for published tables, with OpenDP.

A **differentially private release** adds random noise to every count of a table, so
that the published figures are almost equally likely whether or not any one youth is
in the data. How much they may differ is the privacy loss **epsilon**: smaller is more
private and noisier. Releases about the same youth add up, so every release of a
year's figures spends from one budget (``PrivacyBudget``, ``NOWRONGDOOR_DP_EPSILON_PER_YEAR``,
default 1.0) and none is made once it is spent.

**Mechanism**: OpenDP's Laplace mechanism on integers (the discrete Laplace, or
two-sided geometric, distribution), applied once to every cell of the table, every
county and column together. Only measures where a youth adds 1 to at most one cell
(``Definition.one_cell_per_youth``: counts of distinct youth split by county and by one
characteristic) are released, so the table's L1 sensitivity is 1 and the noise's scale
is 1 / epsilon. Counts of events (reports, tasks) are not: one youth can add many.

**After the noise** (post-processing, which costs no privacy): negative counts become 0,
and totals are the sums of the noisy cells, so every table adds up. Noisy counts are
not masked: small cells are protected by the noise, not by suppression. A release is
kept and shown again as it was; it is never drawn again for the same snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

import opendp.prelude as dp

SENSITIVITY = 1  # one youth, one cell: see the module docstring
MECHANISM = "OpenDP make_laplace on integers (discrete Laplace), L1 sensitivity 1"

dp.enable_features("contrib")


@dataclass(frozen=True)
class Noisy:
    values: list[int]
    scale: float
    epsilon: float  # the privacy loss OpenDP's privacy map reports for sensitivity 1


def noisy_counts(values: list[int], epsilon: float) -> Noisy:
    """``values`` (one table's cells, flattened) with discrete Laplace noise of scale
    ``SENSITIVITY / epsilon``; negatives become 0."""
    if not epsilon > 0:
        raise ValueError("epsilon must be positive")
    scale = SENSITIVITY / epsilon
    laplace = dp.m.make_laplace(dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int), scale=scale)
    spent = float(laplace.map(SENSITIVITY))  # type: ignore[no-untyped-call]
    if spent > epsilon * (1 + 1e-9):  # OpenDP's own accounting must agree with ours
        raise AssertionError(f"OpenDP reports epsilon {spent} for a budget of {epsilon}")
    released = laplace([int(v) for v in values])
    return Noisy([max(0, int(v)) for v in released], scale, spent)
