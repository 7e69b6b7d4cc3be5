"""Joules in the units people report: watt-hours, grams of CO2e, money; labelled extrapolations.

A meter gives joules. Reports also want watt-hours, the emissions at a grid's carbon intensity
(gCO2e per kWh: what a grid operator or electricitymaps publishes) and the cost at an energy
price (per kWh, in whatever currency the price is in). The intensity and the price come from
the caller (CLI ``--grid-intensity`` / ``--price``) or the environment
(``LEPTON_GRID_INTENSITY`` / ``LEPTON_ENERGY_PRICE``); without them only watt-hours are shown,
and without joules (no meter) nothing is: there is nothing to convert.

Per-call joules scaled to a volume ("per 1M predictions", "per day at 100 calls/s") are
extrapolations, and every such figure carries a label saying so.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

JOULES_PER_WH = 3600.0
JOULES_PER_KWH = 3.6e6
SECONDS_PER_DAY = 86_400.0
GRID_INTENSITY_ENV = "LEPTON_GRID_INTENSITY"  # gCO2e per kWh
ENERGY_PRICE_ENV = "LEPTON_ENERGY_PRICE"  # price per kWh
MILLION = 1_000_000


def _rate(value: Any, name: str) -> float | None:
    """A non-negative finite number, or None (not given)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or number < 0:
        msg = f"{name}: expected a number >= 0, got {value!r}"
        raise ValueError(msg)
    return number


def _g(value: float) -> str:
    """Four significant digits; large amounts with thousands separators, not an exponent."""
    if 1e4 <= abs(value) < 1e15:
        return f"{value:,.0f}"
    return f"{value:.4g}"


@dataclass(frozen=True)
class EnergyUnits:
    """How to show joules: ``grid_intensity`` (gCO2e/kWh) and ``price`` (per kWh), each
    optional. ``EnergyUnits.resolve(...)`` fills what the caller left out from the environment."""

    grid_intensity: float | None = None
    price: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "grid_intensity", _rate(self.grid_intensity, "grid_intensity"))
        object.__setattr__(self, "price", _rate(self.price, "price"))

    @classmethod
    def resolve(
        cls,
        grid_intensity: float | None = None,
        price: float | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> EnergyUnits:
        """Explicit values win; otherwise ``LEPTON_GRID_INTENSITY`` / ``LEPTON_ENERGY_PRICE``."""
        env = os.environ if environ is None else environ
        if grid_intensity is None:
            grid_intensity = _rate(env.get(GRID_INTENSITY_ENV), GRID_INTENSITY_ENV)
        if price is None:
            price = _rate(env.get(ENERGY_PRICE_ENV), ENERGY_PRICE_ENV)
        return cls(grid_intensity, price)

    def footprint(self, joules: float | None, label: str = "") -> Footprint | None:
        """``joules`` in every unit these settings allow; None without a reading."""
        if joules is None:
            return None
        joules = float(joules)
        kwh = joules / JOULES_PER_KWH
        return Footprint(
            joules=joules,
            wh=joules / JOULES_PER_WH,
            co2e_g=None if self.grid_intensity is None else kwh * self.grid_intensity,
            cost=None if self.price is None else kwh * self.price,
            grid_intensity=self.grid_intensity,
            price=self.price,
            label=label,
        )

    def to_dict(self) -> dict[str, float | None]:
        return {"grid_intensity_g_per_kwh": self.grid_intensity, "price_per_kwh": self.price}


@dataclass(frozen=True)
class Footprint:
    """One amount of energy in joules, Wh and (when the rates are known) gCO2e and cost."""

    joules: float
    wh: float
    co2e_g: float | None
    cost: float | None
    grid_intensity: float | None  # gCO2e/kWh the grams were computed at
    price: float | None  # per kWh the cost was computed at
    label: str = ""  # what the amount is: "per call", "per 1M predictions (extrapolated)", ...

    def scaled(self, factor: float, label: str) -> Footprint:
        """The same rates applied to ``factor`` times the energy (an extrapolation: say so in
        ``label``)."""
        if not math.isfinite(factor) or factor < 0:
            msg = f"factor: expected a finite number >= 0, got {factor!r}"
            raise ValueError(msg)
        units = EnergyUnits(self.grid_intensity, self.price)
        return units.footprint(self.joules * factor, label)  # type: ignore[return-value]

    def per_million(self, what: str = "calls") -> Footprint:
        """This (per-call) amount times a million: "per 1M <what> (extrapolated)"."""
        return self.scaled(MILLION, f"per 1M {what} (extrapolated)")

    def per_day(self, rate_per_s: float, what: str = "calls") -> Footprint:
        """This amount (per one of ``what``) at ``rate_per_s`` for 24 h: "per day at N calls/s"."""
        rate = _rate(rate_per_s, "rate_per_s")
        if rate is None:
            msg = "rate_per_s: expected a number >= 0, got None"
            raise ValueError(msg)
        label = f"per day at {rate:g} {what}/s (extrapolated)"
        return self.scaled(rate * SECONDS_PER_DAY, label)

    def parts(self) -> list[str]:
        """``["3.6 J", "0.001 Wh", "0.45 gCO2e at 450 g/kWh", "0.0003 at 0.3/kWh"]``."""
        out = [f"{_g(self.joules)} J", f"{_g(self.wh)} Wh"]
        if self.co2e_g is not None:
            out.append(f"{_g(self.co2e_g)} gCO2e at {self.grid_intensity:g} g/kWh")
        if self.cost is not None:
            out.append(f"cost {_g(self.cost)} at {self.price:g}/kWh")
        return out

    def __str__(self) -> str:
        text = ", ".join(self.parts())
        return f"{self.label}: {text}" if self.label else text

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "joules": self.joules,
            "wh": self.wh,
            "co2e_g": self.co2e_g,
            "cost": self.cost,
            "grid_intensity_g_per_kwh": self.grid_intensity,
            "price_per_kwh": self.price,
        }


def report_lines(
    joules_per_call: Mapping[str, float | None],
    *,
    what: str = "calls",
    calls_per_call: float = 1.0,
    rate_per_s: float | None = None,
    units: EnergyUnits | None = None,
) -> list[str]:
    """Lines for a report: each named path's energy per 1M ``what`` and, with ``rate_per_s``
    (``what`` per second), per day at that rate. ``calls_per_call``: how many ``what`` one
    measured call handles (rows per predict call). No lines for paths without joules (no
    meter), so a report without a meter shows nothing extra."""
    if not calls_per_call > 0:
        msg = f"calls_per_call: expected a number > 0, got {calls_per_call!r}"
        raise ValueError(msg)
    units = EnergyUnits.resolve() if units is None else units
    lines = []
    for name, joules in joules_per_call.items():
        each = units.footprint(None if joules is None else joules / calls_per_call)
        if each is None:
            continue
        lines.append(f"{name}, {each.per_million(what)}")
        if rate_per_s is not None:
            lines.append(f"{name}, {each.per_day(rate_per_s, what)}")
    return lines
