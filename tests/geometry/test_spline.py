"""The numpy cubic spline against SciPy's ``CubicSpline`` (not-a-knot) and exact cubics.

* Random nodes (uneven spacing), values with trailing axes, evaluation inside and a little
  outside the nodes: values and first to third derivatives against
  ``scipy.interpolate.CubicSpline(x, y, axis=0)`` (hypothesis).
* A year of the Moon's 3-hour nodes against SciPy.
* Evenly spaced nodes (whose pieces are found by arithmetic, not a search): values and
  derivatives against SciPy, on the nodes too, where the third derivative jumps.
* ``value_and_slope`` against SciPy's value and first derivative.
* The tridiagonal solver (Thomas algorithm as prefix scans) against a dense solve.
* A not-a-knot spline reproduces any cubic polynomial exactly: checked against the polynomial
  and its derivatives by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.interpolate import CubicSpline as ScipyCubicSpline

from planner.geometry.spline import CubicSpline, _solve_tridiagonal


@st.composite
def spline_data(draw):
    n = draw(st.integers(2, 80))
    gaps = np.array(draw(st.lists(st.floats(0.1, 10.0), min_size=n - 1, max_size=n - 1)))
    origin = draw(st.floats(-1e3, 1e3))
    x = origin + np.concatenate([[0.0], np.cumsum(gaps)])
    trailing = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    y = rng.normal(scale=draw(st.floats(1e-3, 1e3)), size=(n, *trailing))
    # evaluation points: inside, on the nodes, and up to one end gap beyond the ends
    x_new = np.concatenate([rng.uniform(x[0] - gaps[0], x[-1] + gaps[-1], 50), x])
    return x, y, x_new


@settings(max_examples=200, deadline=None)
@given(spline_data(), st.integers(0, 3))
def test_matches_scipy_values_and_derivatives(data, nu):
    x, y, x_new = data
    expected = ScipyCubicSpline(x, y, axis=0)(x_new, nu)
    got = CubicSpline(x, y)(x_new, nu)
    assert got.shape == expected.shape
    # both solve the same system in different orders: rounding scales with the values and,
    # for derivatives, with the inverse of the smallest gap to the power nu (3,000 random
    # cases stayed below 1e-11 of that scale)
    scale = np.max(np.abs(y)) / np.min(np.diff(x)) ** nu
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9 * scale)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 300), st.integers(0, 2**32 - 1), st.floats(1e-3, 1e3))
def test_tridiagonal_solver_matches_a_dense_solve(n, seed, spread):
    """Strictly diagonally dominant systems, off-diagonals spread over six decades."""
    rng = np.random.default_rng(seed)
    lower, upper = (rng.uniform(-1, 1, n) * spread ** rng.uniform(-1, 1, n) for _ in range(2))
    lower[0] = upper[-1] = 0.0
    diagonal = (np.abs(lower) + np.abs(upper)) * rng.uniform(1.01, 3.0, n) + 1e-6
    diagonal *= rng.choice([-1.0, 1.0], n)
    rhs = rng.normal(size=(n, 3))
    matrix = np.diag(diagonal) + np.diag(lower[1:], -1) + np.diag(upper[:-1], 1)
    expected = np.linalg.solve(matrix, rhs)
    np.testing.assert_allclose(_solve_tridiagonal(lower, diagonal, upper, rhs), expected,
                               rtol=1e-9, atol=1e-9 * np.max(np.abs(expected)))


def test_matches_scipy_over_a_year_of_moon_nodes():
    """The Moon's nodes over a year: 3 h apart, ~2,900 of them, a smooth 3-vector."""
    x = np.arange(2921) * 10800.0
    y = np.stack([np.cos(x / 2.36e6), np.sin(x / 2.36e6), 0.1 * np.sin(x / 1.18e6)], axis=-1)
    x_new = np.random.default_rng(7).uniform(x[0], x[-1], 5000)
    for nu in range(3):
        np.testing.assert_allclose(CubicSpline(x, y)(x_new, nu),
                                   ScipyCubicSpline(x, y, axis=0)(x_new, nu),
                                   rtol=0, atol=1e-12 / 10800.0**nu)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 60), st.floats(-1e7, 1e7), st.floats(1e-3, 1e4), st.integers(0, 2**32 - 1),
       st.integers(0, 3))
def test_evenly_spaced_nodes_match_scipy(n, origin, step, seed, nu):
    """Nodes as the Sun's and Moon's tracks make them, ``k * step``: points on every node (the
    third derivative jumps there, so the piece must be the search's) and in between."""
    x = (np.floor(origin / step) + np.arange(n)) * step
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(n, 3))
    x_new = np.concatenate([x, rng.uniform(x[0] - step, x[-1] + step, 50),
                            np.nextafter(x, -np.inf), np.nextafter(x, np.inf)])
    expected = ScipyCubicSpline(x, y, axis=0)(x_new, nu)
    scale = np.max(np.abs(y)) / step**nu
    np.testing.assert_allclose(CubicSpline(x, y)(x_new, nu), expected, rtol=1e-9,
                               atol=1e-9 * scale)


def test_value_and_slope_match_scipy():
    x = np.array([0.0, 0.7, 1.5, 3.0, 3.2, 5.0, 8.0])
    y = np.random.default_rng(3).normal(size=(x.size, 2))
    x_new = np.linspace(-1.0, 9.0, 41).reshape(1, 41)
    value, slope = CubicSpline(x, y).value_and_slope(x_new)
    reference = ScipyCubicSpline(x, y, axis=0)
    np.testing.assert_allclose(value, reference(x_new), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(slope, reference(x_new, 1), rtol=1e-12, atol=1e-12)


def test_reproduces_a_cubic_exactly():
    x = np.array([0.0, 0.7, 1.5, 3.0, 3.2, 5.0, 8.0])
    x_new = np.linspace(-1.0, 9.0, 101)
    a, b, c, d = 1.5, -2.0, 0.75, -0.125

    def cubic(t):
        return a + b * t + c * t**2 + d * t**3

    derivatives = [cubic(x_new), b + 2 * c * x_new + 3 * d * x_new**2, 2 * c + 6 * d * x_new,
                   np.full_like(x_new, 6 * d)]
    spline = CubicSpline(x, cubic(x))
    for nu, expected in enumerate(derivatives):
        np.testing.assert_allclose(spline(x_new, nu), expected, rtol=1e-12, atol=1e-11)


def test_passes_through_the_nodes_with_trailing_axes():
    x = np.array([0.0, 1.0, 2.5, 4.0, 6.0])
    y = np.arange(5 * 3 * 3, dtype=float).reshape(5, 3, 3) ** 1.5
    np.testing.assert_allclose(CubicSpline(x, y)(x), y, rtol=1e-13)
    assert CubicSpline(x, y)(2.0).shape == (3, 3)


@pytest.mark.parametrize("x", [[0.0], [0.0, 0.0, 1.0], [0.0, 2.0, 1.0], [0.0, np.nan, 1.0]])
def test_rejects_nodes_that_are_not_strictly_increasing(x):
    with pytest.raises(ValueError):
        CubicSpline(x, np.zeros(len(x)))
