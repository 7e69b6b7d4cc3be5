"""Joules in reported units (energy/units.py) and the thin hooks on Measurement."""

from __future__ import annotations

import math

import pytest

from lepton.energy import Measurement
from lepton.energy.units import (
    ENERGY_PRICE_ENV,
    GRID_INTENSITY_ENV,
    EnergyUnits,
    report_lines,
)


@pytest.fixture(autouse=True)
def _no_rates_in_env(monkeypatch):
    monkeypatch.delenv(GRID_INTENSITY_ENV, raising=False)
    monkeypatch.delenv(ENERGY_PRICE_ENV, raising=False)


def test_one_kilowatt_hour():
    found = EnergyUnits(grid_intensity=420.0, price=0.3).footprint(3.6e6)
    assert found.wh == pytest.approx(1000.0)
    assert found.co2e_g == pytest.approx(420.0)
    assert found.cost == pytest.approx(0.3)
    assert str(found) == "3,600,000 J, 1000 Wh, 420 gCO2e at 420 g/kWh, cost 0.3 at 0.3/kWh"


def test_without_rates_only_watt_hours_and_without_joules_nothing():
    units = EnergyUnits()
    found = units.footprint(7.2)
    assert found.wh == pytest.approx(0.002)
    assert found.co2e_g is None
    assert found.cost is None
    assert str(found) == "7.2 J, 0.002 Wh"
    assert units.footprint(None) is None
    assert report_lines({"a": None, "b": None}, units=EnergyUnits(400, 1.0)) == []


def test_zero_joules_is_a_reading():
    found = EnergyUnits(grid_intensity=400).footprint(0.0)
    assert found is not None
    assert found.co2e_g == 0.0


def test_environment_fills_what_the_caller_left_out(monkeypatch):
    monkeypatch.setenv(GRID_INTENSITY_ENV, "250")
    monkeypatch.setenv(ENERGY_PRICE_ENV, " 0.12 ")
    assert EnergyUnits.resolve() == EnergyUnits(250.0, 0.12)
    assert EnergyUnits.resolve(grid_intensity=50.0) == EnergyUnits(50.0, 0.12)
    assert EnergyUnits.resolve(environ={}) == EnergyUnits()


@pytest.mark.parametrize("bad", ["lots", "-1", "nan", "inf"])
def test_bad_environment_values_name_the_variable(monkeypatch, bad):
    monkeypatch.setenv(GRID_INTENSITY_ENV, bad)
    with pytest.raises(ValueError, match=GRID_INTENSITY_ENV):
        EnergyUnits.resolve()


@pytest.mark.parametrize("bad", [-0.5, math.nan, True, "x"])
def test_bad_rates_name_the_argument(bad):
    with pytest.raises(ValueError, match="price"):
        EnergyUnits(price=bad)


def test_extrapolations_are_labelled():
    per_call = EnergyUnits(grid_intensity=500).footprint(0.0036)  # 1 µWh
    million = per_call.per_million("predictions")
    assert million.label == "per 1M predictions (extrapolated)"
    assert million.wh == pytest.approx(1.0)
    assert million.co2e_g == pytest.approx(0.5)
    day = per_call.per_day(10)
    assert day.label == "per day at 10 calls/s (extrapolated)"
    assert day.joules == pytest.approx(0.0036 * 10 * 86_400)
    assert str(day).startswith("per day at 10 calls/s (extrapolated): ")
    with pytest.raises(ValueError, match="rate_per_s"):
        per_call.per_day(-1)
    with pytest.raises(ValueError, match="factor"):
        per_call.scaled(math.inf, "x")


def test_report_lines_per_row_and_per_day():
    lines = report_lines(
        {"int8": 0.36, "float": 3.6},
        what="predictions",
        calls_per_call=1000,
        rate_per_s=100,
        units=EnergyUnits(price=1.0),
    )
    day = "per day at 100 predictions/s (extrapolated)"
    assert lines == [
        "int8, per 1M predictions (extrapolated): 360 J, 0.1 Wh, cost 0.0001 at 1/kWh",
        f"int8, {day}: 3110 J, 0.864 Wh, cost 0.000864 at 1/kWh",
        "float, per 1M predictions (extrapolated): 3600 J, 1 Wh, cost 0.001 at 1/kWh",
        f"float, {day}: 31,104 J, 8.64 Wh, cost 0.00864 at 1/kWh",
    ]
    with pytest.raises(ValueError, match="calls_per_call"):
        report_lines({"a": 1.0}, calls_per_call=0)


def test_measurement_delegates(monkeypatch):
    m = Measurement(seconds=2.0, joules=7200.0, avg_watts=3600.0, source="rapl")
    assert m.wh == pytest.approx(2.0)
    assert m.co2e_g is None  # no intensity given
    monkeypatch.setenv(GRID_INTENSITY_ENV, "300")
    monkeypatch.setenv(ENERGY_PRICE_ENV, "0.5")
    assert m.co2e_g == pytest.approx(0.6)
    assert m.cost == pytest.approx(0.001)
    assert m.footprint(grid_intensity=100).co2e_g == pytest.approx(0.2)
    assert "co2e_g" not in m.to_dict()  # derived, not stored
    none = Measurement(seconds=1.0, joules=None, avg_watts=None, source="none")
    assert none.footprint() is None
    assert (none.wh, none.co2e_g, none.cost) == (None, None, None)


def test_compare_report_shows_units_only_with_joules(monkeypatch):
    """The hook in Lepton.compare's text (inference/compare.py): per 1M predictions."""
    from lepton.inference.compare import Comparison
    from lepton.inference.measuring import CallCost

    def comparison(int8_j, float_j):
        return Comparison(
            model="sklearn_mlp", rows=1000, output="predict", max_abs_error=0.0,
            mean_abs_error=0.0, label_agreement=1.0, metric=None, metric_int8=None,
            metric_float=None, int8_cost=CallCost(0.001, int8_j, "rapl", 10),
            float_cost=CallCost(0.004, float_j, "rapl", 10),
        )  # fmt: skip

    monkeypatch.setenv(GRID_INTENSITY_ENV, "400")
    text = str(comparison(0.36, 1.8))
    assert "int8, per 1M predictions (extrapolated): 360 J, 0.1 Wh, 0.04 gCO2e at 400 g/kWh" in text
    assert "float, per 1M predictions (extrapolated): 1800 J, 0.5 Wh" in text
    assert "per 1M predictions" not in str(comparison(None, None))
