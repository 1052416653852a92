"""Key volume: link budget + finite key for a year of passes, against the pass finding.

Target (issue "Key volume per pass"): for one year of Jinan-1 passes over the seven Jinan-1
stations at 1 s resolution, per-second tracks + link + finite key cost no more than 2x the pass
finding for the same passes; one ``--loss-csv`` pass evaluates in milliseconds. Times are the
best of ``--repeat`` runs in this process.

The measured route is :func:`planner.key.perpass.pass_key_table` from element sets (what
``qkdplan keys`` and the main job run): samples made and reduced a few hundred passes at a time.
The same function fed a whole per-second track table
(:func:`planner.geometry.tracks.track_arrays`) is printed beside it, with the difference of the
two totals.

Run:  python benchmarks/keys.py [--days N] [--repeat N]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from planner.elements.elementsets import read_catalogue
from planner.geometry.passes import find_passes
from planner.geometry.tracks import track_arrays
from planner.io.resources import bundled_path
from planner.key.losscurve import key_from_loss_curve
from planner.key.perpass import pass_key_table
from planner.mission.payloads import load_payloads
from planner.mission.stations import JINAN1_STATIONS, load_stations, select_stations

START = datetime(2026, 11, 20, tzinfo=UTC)


def best_of(repeat: int, function):
    best, result = np.inf, None
    for _ in range(repeat):
        begin = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - begin)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    catalogue = read_catalogue(bundled_path("tle_data/jinan1_representative.tle"))
    stations = select_stations(load_stations(), list(JINAN1_STATIONS))
    payload = load_payloads()["jinan-1"]
    end = START + timedelta(days=args.days)
    find_passes(catalogue, stations[:1], START, START + timedelta(days=1))   # warm-up

    finding_s, passes = best_of(args.repeat,
                                lambda: find_passes(catalogue, stations, START, end))

    keys_s, table = best_of(args.repeat,
                            lambda: pass_key_table(passes, catalogue, stations, payload))

    def two_step():
        tracks = pd.DataFrame(track_arrays(passes, catalogue, stations))
        return pass_key_table(passes, tracks, stations, payload), len(tracks)

    two_step_s, (two_step_table, samples) = best_of(args.repeat, two_step)
    print(f"{len(passes)} passes ({samples} one-second samples) over {args.days:g} days, "
          f"7 stations: pass finding {finding_s:.3f} s; tracks + link + finite key "
          f"{keys_s:.3f} s; ratio {keys_s / finding_s:.2f} (target <= 2)")
    total = table["secure_bits"].sum()
    print(f"total finite-key secure key {total / 1e6:.1f} Mbit; through a whole track table: "
          f"{two_step_s:.3f} s (ratio {two_step_s / finding_s:.2f}), totals differ by "
          f"{abs(two_step_table['secure_bits'].sum() - total):.0f} bit")

    seconds = np.arange(0.0, 360.0)
    loss = 36.0 + 10.0 * ((seconds - 180.0) / 180.0) ** 2
    curve_s, result = best_of(20, lambda: key_from_loss_curve(seconds, loss, payload))
    print(f"one --loss-csv pass (360 samples): {1e3 * curve_s:.2f} ms "
          f"({result['secure_bits'] / 1e3:.0f} kbit)")


if __name__ == "__main__":
    main()
