"""A not-a-knot cubic interpolating spline in numpy alone.

:mod:`planner.geometry.sky` interpolates the Sun's and the Moon's positions between ephemeris
nodes. SciPy's ``CubicSpline`` does that, but importing ``scipy.interpolate`` costs a few tenths
of a second of every command's start-up (it pulls in ``scipy.linalg``, ``scipy.optimize`` and
``scipy.special``); this module is the same spline, vectorised over the values' trailing axes,
in a few dozen lines of numpy (tested against ``scipy.interpolate.CubicSpline``).

The spline is C2 and its first and second interior pieces (and its last two) are one cubic:
the "not-a-knot" end condition, SciPy's default. With the slopes :math:`s_i` at the nodes as
unknowns the continuity of the second derivative gives one tridiagonal system (de Boor, *A
Practical Guide to Splines*, rev. ed. 2001, ch. IV; the same system and end rows as SciPy's
implementation). The two end rows are eliminated, which leaves a strictly diagonally dominant
tridiagonal system for the interior slopes, solved by the Thomas algorithm (stable without
pivoting for such a matrix), its two sweeps computed as parallel prefix scans so that a year
of 3-hour Moon nodes takes about a millisecond.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CubicSpline"]


def _linear_recurrence(factor: np.ndarray, term: np.ndarray) -> np.ndarray:
    """``r[i] = factor[i] r[i-1] + term[i]`` with ``r[0] = term[0]``, for all ``i`` at once.

    A parallel prefix scan (Hillis and Steele, *Data parallel algorithms*, CACM 29, 1986): after
    the pass with stride ``s`` each row holds its recurrence over the last ``2 s`` rows, so
    ``log2(n)`` vectorised passes replace a Python loop over ``n`` rows. The result is the same
    sum of products of factors as the loop's, in another order; with the factors of a
    diagonally dominant matrix (below 1 in magnitude, but for the last row's forward factor)
    those products only shrink, so it is as stable as the loop.

    Parameters
    ----------
    factor : ndarray, shape (n,)
        ``factor[0]`` is ignored.
    term : ndarray, shape (n, m)
    """
    factor = factor.copy()
    factor[0] = 0.0
    result = term.copy()
    stride = 1
    while stride < len(result):
        result[stride:] = result[stride:] + factor[stride:, None] * result[:-stride]
        factor[stride:] = factor[stride:] * factor[:-stride]
        stride *= 2
    return result


def _solve_tridiagonal(lower: np.ndarray, diagonal: np.ndarray, upper: np.ndarray,
                       rhs: np.ndarray) -> np.ndarray:
    """Solve a strictly diagonally dominant tridiagonal system (Thomas algorithm).

    Parameters
    ----------
    lower, diagonal, upper : ndarray, shape (n,)
        Row ``i`` reads ``lower[i] x[i-1] + diagonal[i] x[i] + upper[i] x[i+1] = rhs[i]``
        (``lower[0]`` and ``upper[-1]`` are ignored).
    rhs : ndarray, shape (n, m)
        One right-hand side per column.

    Returns
    -------
    ndarray, shape (n, m)
    """
    # the pivots depend on the nodes only: plain floats, cheap in a Python loop
    lower_list, diagonal_list, upper_list = lower.tolist(), diagonal.tolist(), upper.tolist()
    pivots = [diagonal_list[0]]
    for i in range(1, len(diagonal_list)):
        pivots.append(diagonal_list[i] - lower_list[i] * upper_list[i - 1] / pivots[-1])
    pivot = np.array(pivots)
    # forward elimination, y[i] = (rhs[i] - lower[i] y[i-1]) / pivot[i], then back
    # substitution, x[i] = y[i] - upper[i] / pivot[i] x[i+1], both as linear recurrences
    eliminated = _linear_recurrence(-lower / pivot, rhs / pivot[:, None])
    return _linear_recurrence((-upper / pivot)[::-1], eliminated[::-1])[::-1]


class CubicSpline:
    """Cubic spline through ``(x, y)`` with not-a-knot ends, like SciPy's ``CubicSpline``.

    Parameters
    ----------
    x : array_like, shape (n,)
        Strictly increasing nodes (any unit; here seconds of a :class:`~planner.timebase.TimeBase`).
    y : array_like, shape (n, ...)
        Values at the nodes along axis 0; any trailing shape is interpolated element-wise.

    Notes
    -----
    Two nodes give the straight line and three the parabola through them (as in SciPy).
    Outside ``[x[0], x[-1]]`` the end pieces are extrapolated.
    """

    def __init__(self, x, y):
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        if x.ndim != 1 or len(x) < 2:
            raise ValueError("x must be one-dimensional with at least two nodes")
        if y.shape[0] != len(x):
            raise ValueError(f"y has {y.shape[0]} rows along axis 0, x has {len(x)} nodes")
        dx = np.diff(x)
        if not np.all(dx > 0) or not np.all(np.isfinite(x)):
            raise ValueError("x must be finite and strictly increasing")
        values = y.reshape(len(x), -1)
        slope = np.diff(values, axis=0) / dx[:, None]
        slopes = self._node_slopes(x, dx, slope)
        # piece i on [x[i], x[i+1]]: y_i + s_i t + c2 t^2 + c3 t^3 with t = x - x[i]
        h = dx[:, None]
        c2 = (3.0 * slope - 2.0 * slopes[:-1] - slopes[1:]) / h
        c3 = (slopes[:-1] + slopes[1:] - 2.0 * slope) / h**2
        self.x = x
        self._trailing_shape = y.shape[1:]
        # piece-major, so that looking up the pieces of many points gathers whole rows
        self._coefficients = np.stack([values[:-1], slopes[:-1], c2, c3], axis=1)  # (n-1, 4, m)
        # evenly spaced nodes (the Sun's and the Moon's) are found by arithmetic, not a search
        self._step = float(dx[0])
        self._evenly_spaced = bool(np.all(np.abs(dx - self._step) <= 1e-9 * self._step))

    @staticmethod
    def _node_slopes(x: np.ndarray, dx: np.ndarray, slope: np.ndarray) -> np.ndarray:
        """The first derivative at each node [y unit / x unit], shape (n, m)."""
        n = len(x)
        if n == 2:
            return np.concatenate([slope, slope])
        if n == 3:
            # not-a-knot on three nodes: the one parabola through them
            curvature = (slope[1] - slope[0]) / (x[2] - x[0])  # half the second derivative
            return np.stack([slope[0] - curvature * dx[0],
                             slope[0] + curvature * dx[0],
                             slope[1] + curvature * dx[1]])
        # rows 1 .. n-2: continuity of the second derivative at x[i]
        lower = dx[1:].copy()
        diagonal = 2.0 * (dx[:-1] + dx[1:])
        upper = dx[:-1].copy()
        rhs = 3.0 * (dx[1:, None] * slope[:-1] + dx[:-1, None] * slope[1:])
        # not-a-knot: the third derivative is continuous at x[1] and at x[n-2], i.e.
        #   dx[1] s[0] + (x[2] - x[0]) s[1] = first
        #   (x[-1] - x[-3]) s[-2] + dx[-2] s[-1] = last
        # (SciPy's end rows); s[0] and s[-1] are eliminated with them, which leaves a strictly
        # diagonally dominant system for s[1] .. s[n-2] (stable without pivoting)
        span = x[2] - x[0]
        first = ((dx[0] + 2.0 * span) * dx[1] * slope[0] + dx[0] ** 2 * slope[1]) / span
        diagonal[0] -= span
        rhs[0] -= first
        span_end = x[-1] - x[-3]
        last = (dx[-1] ** 2 * slope[-2]
                + (2.0 * span_end + dx[-1]) * dx[-2] * slope[-1]) / span_end
        diagonal[-1] -= span_end
        rhs[-1] -= last
        inner = _solve_tridiagonal(lower, diagonal, upper, rhs)
        return np.concatenate([((first - span * inner[0]) / dx[1])[None],
                               inner,
                               ((last - span_end * inner[-1]) / dx[-2])[None]])

    def __call__(self, x_new, nu: int = 0) -> np.ndarray:
        """The spline or one of its derivatives at ``x_new``.

        Parameters
        ----------
        x_new : array_like
            Where to evaluate (the unit of ``x``); outside the nodes the end pieces extend.
        nu : {0, 1, 2, 3}
            Derivative order (0: the values) [y unit / x unit ** nu].

        Returns
        -------
        ndarray, shape ``x_new.shape + y.shape[1:]``
        """
        if nu not in (0, 1, 2, 3):
            raise ValueError(f"derivative order must be 0 to 3, not {nu}")
        x_new = np.asarray(x_new, dtype=float)
        t, (c0, c1, c2, c3) = self._pieces(x_new)
        if nu == 0:
            result = c0 + t * (c1 + t * (c2 + t * c3))
        elif nu == 1:
            result = c1 + t * (2.0 * c2 + t * (3.0 * c3))
        elif nu == 2:
            result = 2.0 * c2 + t * (6.0 * c3)
        else:
            result = 6.0 * c3 + 0.0 * t
        return result.reshape(x_new.shape + self._trailing_shape)

    def value_and_slope(self, x_new) -> tuple[np.ndarray, np.ndarray]:
        """The spline and its first derivative at ``x_new``, sharing one look-up of the pieces.

        Returns
        -------
        value, slope : ndarray, shape ``x_new.shape + y.shape[1:]``
            As ``self(x_new)`` and ``self(x_new, 1)`` [y unit, y unit / x unit].
        """
        x_new = np.asarray(x_new, dtype=float)
        t, (c0, c1, c2, c3) = self._pieces(x_new)
        value = c0 + t * (c1 + t * (c2 + t * c3))
        slope = c1 + t * (2.0 * c2 + t * (3.0 * c3))
        shape = x_new.shape + self._trailing_shape
        return value.reshape(shape), slope.reshape(shape)

    def _pieces(self, x_new: np.ndarray):
        """Offsets from the start of each point's piece, (P, 1), and that piece's four
        coefficient rows, each (P, m), for the P points of ``x_new`` flattened.

        A point on a node belongs to the piece that starts there (``searchsorted``'s
        ``side="right"``); points outside the nodes to the end pieces.
        """
        flat = x_new.reshape(-1)
        last = len(self.x) - 2
        if self._evenly_spaced:
            guess = np.floor((flat - self.x[0]) / self._step)
            piece = np.clip(np.nan_to_num(guess, nan=0.0), 0, last).astype(np.intp)
            # rounding can put a point next to a node in the neighbouring piece: one step back or
            # on corrects it, which makes the pieces exactly those of the search
            piece -= (flat < self.x[piece]) & (piece > 0)
            piece += (flat >= self.x[piece + 1]) & (piece < last)
        else:
            piece = np.clip(np.searchsorted(self.x, flat, side="right") - 1, 0, last)
        t = (flat - self.x[piece])[:, None]
        rows = self._coefficients[piece]
        return t, (rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3])
