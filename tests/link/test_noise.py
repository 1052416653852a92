"""Noise model (extraneous clicks) by hand."""

from __future__ import annotations

import pytest

from planner.link.noise import extraneous_click_probability


def test_extraneous_click_probability():
    # docs/reference.md §4: Y0 = (dark + background) x gate. 4 x 125/s + 500/s in 1 ns = 1e-6.
    assert extraneous_click_probability(125.0, 4, 500.0, 1.0) == pytest.approx(
        1e-6, rel=1e-6)
    assert extraneous_click_probability(0.0, 4, 0.0, 1.0) == 0.0
