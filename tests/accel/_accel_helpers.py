"""Helpers shared by the accel tests."""

import numpy as np

from lepton import accel
from lepton.energy.base import Meter


class EdgeCountingMeter(Meter):
    """A meter whose counter moves by ``JOULES_PER_READ`` on every read: a window read at its two
    edges only (the rule for every measuring window) holds exactly that much energy, so a test
    sees both where the joules come from and that nothing read the counter inside the window."""

    source = "fake"
    JOULES_PER_READ = 10.0

    def __init__(self) -> None:
        super().__init__(device="cpu")
        self.device_name = "edge-counting fake"
        self.reads = 0

    def _read_joules(self) -> float:
        self.reads += 1
        return self.JOULES_PER_READ * self.reads


def groups():
    """{(estimator short name, method, ran_on): group} of the current report."""
    return {(g.estimator.rsplit(".", 1)[-1], g.method, g.ran_on): g for g in accel.report().groups}


def data(seed=0, shape=(400, 7), nan=0.0, dtype=np.float64, loc=3.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(rng.uniform(-loc, loc, shape[1]), rng.uniform(0.5, 3, shape[1]), shape)
    if nan:
        x[rng.random(shape) < nan] = np.nan
    return x.astype(dtype)
