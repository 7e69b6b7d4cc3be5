"""Helpers shared by the accel tests."""

import time

import numpy as np

from lepton import accel
from lepton.energy.base import Meter


class ConstantPowerMeter(Meter):
    """A meter drawing a known 10 W: a window's joules are exactly 10 × its seconds."""

    source = "fake"
    watts = 10.0

    def __init__(self) -> None:
        super().__init__(clock=self._tick, device="cpu")
        self.device_name = "constant 10 W"
        self._last = 0.0

    def _tick(self) -> float:
        self._last = time.perf_counter()
        return self._last

    def _read_joules(self) -> float:
        # The meter reads the clock, then the counter: the counter is 10 W × that same time.
        return self.watts * self._last


def groups():
    """{(estimator short name, method, ran_on): group} of the current report."""
    return {(g.estimator.rsplit(".", 1)[-1], g.method, g.ran_on): g for g in accel.report().groups}


def data(seed=0, shape=(400, 7), nan=0.0, dtype=np.float64, loc=3.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(rng.uniform(-loc, loc, shape[1]), rng.uniform(0.5, 3, shape[1]), shape)
    if nan:
        x[rng.random(shape) < nan] = np.nan
    return x.astype(dtype)
