"""One weather count per report: the monthly band and the relay figure state the same scenarios
unless the caller chose the band's apart, and then the relay figure says so."""

from __future__ import annotations

import re

from planner.report import page as report


def _labels(page: str, figure_specs) -> tuple[str, str]:
    """The weather labels of the monthly budget and of the relay figure."""
    specs = figure_specs(page)
    monthly = next(t["name"] for t in specs["fig-monthly"][0] if "P10" in t.get("name", ""))
    relay = next(t["name"] for t in specs["fig-relay"][0] if "weather" in t.get("name", ""))
    return monthly, relay


def test_band_draws_the_plans_scenarios_by_default(build_inputs, run, figure_specs):
    inputs = build_inputs(weather_scenarios=None, weather_seed=None)
    page = report.build_report(inputs)
    monthly, relay = _labels(page, figure_specs)
    info = run["plan"].weather_info
    stated = f"{info['scenarios']:,} weather scenarios, seed {info['seed']}"
    assert stated in monthly and stated in relay, (monthly, relay)
    counts = {int(n.replace(",", "")) for n in re.findall(r"([\d,]+) (?:weather scenarios|"
                                                          r"sampled seasons)", page)}
    assert counts == {info["scenarios"]}
    assert "the monthly band draws" not in relay


def test_a_band_drawn_apart_is_labelled_as_such(build_inputs, run, figure_specs):
    page = report.build_report(build_inputs(weather_scenarios=200, weather_seed=11))
    monthly, relay = _labels(page, figure_specs)
    info = run["plan"].weather_info
    assert info["scenarios"] != 200
    assert "200 weather scenarios, seed 11" in monthly
    assert (f"{info['scenarios']} weather scenarios, seed {info['seed']}; the relay plan's own "
            "replay, while the monthly band draws 200, seed 11") in relay
