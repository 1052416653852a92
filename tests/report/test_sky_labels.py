"""The sky plot's elevation labels: few rings labelled, along a spoke no track runs near."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from planner.report.figures.sky import SKY_STEP_S, decimate_tracks, sky_figure
from planner.report.figures.style import station_colours

NEAR = 8.0
"""A track sample closer than this to a label's anchor [deg of the polar plot's radius, 90 to
the rim] would run through the label."""


@pytest.fixture(scope="module")
def sky(run):
    tracks = decimate_tracks(run["night_tracks"], SKY_STEP_S)
    passes = run["keys"].loc[pd.unique(tracks["pass_id"])]
    names = [s.name for s in run["inputs"].stations]
    return sky_figure(tracks, passes, station_colours(names),
                      {n: 10.0 for n in names}, night_label="night of test")


def _xy(r, azimuth_deg):
    a = np.radians(np.asarray(azimuth_deg, float))
    return np.asarray(r, float) * np.sin(a), np.asarray(r, float) * np.cos(a)


def test_few_elevation_labels_and_none_on_a_track(sky):
    polars = [k for k in sky.layout if re.fullmatch(r"polar\d*", k)]
    assert len(polars) > 1
    tracks_near = 0
    for name in polars:
        axis = sky.layout[name].radialaxis
        labels = list(axis.ticktext)
        assert 2 <= len(labels) <= 4 and "90°" not in labels, labels  # no label at the zenith
        # the polar's angle runs counter-clockwise from east; azimuth clockwise from north
        azimuth = (90.0 - axis.angle) % 360.0
        lx, ly = _xy(axis.tickvals, np.full(len(axis.tickvals), azimuth))
        subplot = "polar" if name == "polar" else name
        for trace in sky.data:
            if (trace.subplot or "polar") != subplot or trace.name.startswith("minimum"):
                continue  # the minimum-elevation ring is not a track
            tx, ty = _xy(trace.r, trace.theta)
            distance = np.hypot(tx[:, None] - lx[None, :], ty[:, None] - ly[None, :])
            tracks_near += int(np.sum(distance.min(axis=1) < NEAR))
    assert tracks_near == 0
