"""Sweep files: wrong types and bad values exit 2 naming the sweep file's line and field.

Values of the sweep file reach loaders that would name command-line flags (``--start``,
``--days``, ``--station``); a sweep has no such flags, so its errors name its own fields.
"""

from __future__ import annotations

import pytest

from tests.conftest import assert_one_line_error, run

AXIS = "axes:\n  aperture_m: [0.2]\n"


@pytest.mark.parametrize(("text", "line", "field"), [
    ("tle: [5]\n" + AXIS, 1, "tle"),
    ("tle: []\n" + AXIS, 1, "tle"),
    ("stations: 5\n" + AXIS, 1, "stations"),
    ("stations: [Beijing, 5]\n" + AXIS, 1, "stations"),
    ("payload: [1]\n" + AXIS, 1, "payload"),
    ("axes:\n  aperture_m: [.inf]\n", 2, "axes.aperture_m[0]"),
    ("axes:\n  divergence_urad: [10, .nan]\n", 2, "axes.divergence_urad[1]"),
    ("days: .inf\n" + AXIS, 1, "days"),
    ("days: 2\nstart: [2026]\n" + AXIS, 2, "start"),
    ("days: 2\nstart: 2026-02-30\n" + AXIS, 2, "start"),
    ("days: 2\nstart: 9999-12-31T12:00\n" + AXIS, 2, "start"),
    ("days: 2\nstart: 0001-01-01T00:00+14:00\n" + AXIS, 2, "start"),
    ("start: 2026-11-24\ndays: 1\nstations: [Nowhere]\n" + AXIS, 3, "stations"),
    ("start: 2026-11-24\ndays: 5000\n" + AXIS, 2, "days"),
    ("start: 2053-09-25\ndays: 30\n" + AXIS, 2, "days"),
    ("start: 2026-11-24\ndays: 1\npayload: no-such-payload\n" + AXIS, 3, "payload"),
    ("start: 2026-11-24\ndays: 1\naxes:\n  stations: [[Beijing], [Nowhere]]\n", 4,
     "axes.stations[1]"),
])
def test_bad_sweep_values_name_the_sweep_file_line_and_field(text, line, field, tmp_path, capsys):
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    code, out, err = run(["sweep", path], capsys)
    message = assert_one_line_error(code, out, err)
    assert message.startswith(f"qkdplan: error: {path}:{line}: {field}: "), message
    assert " --" not in message, message  # no command-line flag: a sweep file has none
