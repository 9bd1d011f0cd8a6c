"""One Cutoff (spec value → exact fraction) and one resolved design for AF and income variance."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dongxi.errors import InputError
from dongxi.measure import Cutoff, load_spec
from dongxi.measure._af import make_design
from dongxi.measure._variance import VarianceDesign

WEIGHTS = [Fraction(1, 6), Fraction(1, 6), Fraction(1, 3), Fraction(1, 3)]


def test_cutoff_of_each_spelling() -> None:
    assert Cutoff.of(33.33, WEIGHTS) == Cutoff(33.33, Fraction(3333, 10_000))
    assert Cutoff.of("50", WEIGHTS) == Cutoff(50.0, Fraction(1, 2))
    assert Cutoff.of("union", WEIGHTS) == Cutoff(float(Fraction(100, 6)), Fraction(1, 6))
    assert Cutoff.of("intersection", WEIGHTS) == Cutoff(100.0, Fraction(1))
    with pytest.raises(InputError, match="must lie in"):
        Cutoff.of(0.0, WEIGHTS)
    with pytest.raises(InputError, match="number in percent"):
        Cutoff.of("a third", WEIGHTS)


def test_spec_cutoffs_default_to_the_specs_k() -> None:
    spec = load_spec("global_mpi")
    weights = spec.exact_weights()
    assert spec.cutoffs() == [Cutoff.of(k, weights) for k in spec.k]
    assert spec.cutoffs(["20"]) == [Cutoff(20.0, Fraction(1, 5))]


@given(st.floats(min_value=0.01, max_value=100.0))
def test_percent_and_value_agree(k: float) -> None:
    cut = Cutoff.of(k, WEIGHTS)
    assert cut.percent == k
    assert cut.value == Fraction(str(k)) / 100


def test_design_of_cells_with_and_without_psus() -> None:
    n = np.array([2.0, 3.0, 1.0, 4.0])
    with_psu = make_design(["a", "a", "b", "b"], [1, 2, 3, 4], n, lonely_psu="fail")
    assert not with_psu.units_are_psus
    assert (with_psu.n_psu, with_psu.n_strata, with_psu.df) == (4, 2, 2.0)
    assert with_psu.psu_stratum.tolist() == [0, 0, 1, 1]
    units = make_design(["a", "a", "b", "b"], None, n, lonely_psu="fail")
    assert units.units_are_psus
    assert units.psu.tolist() == [0, 0, 1, 1]  # each cell's variance row is its stratum
    assert units.n_h.tolist() == [5.0, 5.0]  # units per stratum
    assert units.df == 8.0
    assert units.stratum_matrix.toarray().tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_permuted_design_keeps_each_rows_psu() -> None:
    design = VarianceDesign(
        np.array([0, 1, 1, 2]), np.array([0, 0, 1]), np.array([2.0, 1.0]), "certainty", False
    )
    perm = np.array([3, 0, 2, 1])
    moved = design.permuted(perm)
    assert moved.psu.tolist() == [2, 0, 1, 1]
    assert moved.psu_stratum.tolist() == [0, 0, 1]
    rows = VarianceDesign(
        np.arange(3), np.array([1, 0, 1]), np.array([1.0, 2.0]), "certainty", True
    )
    moved_rows = rows.permuted(np.array([2, 0, 1]))
    assert moved_rows.psu.tolist() == [0, 1, 2]
    assert moved_rows.psu_stratum.tolist() == [1, 1, 0]
    assert moved_rows.df == rows.df == 1.0
