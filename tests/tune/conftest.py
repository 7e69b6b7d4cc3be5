"""Fake kernels with known time and energy per configuration, on a scripted meter."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest

from lepton.energy.testing import ScriptedMeter
from lepton.tune import Problem, TunableOp, register, unregister


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    """Every test gets its own tuning cache; nothing touches ~/.cache."""
    path = tmp_path / "cache"
    monkeypatch.setenv("LEPTON_CACHE_DIR", str(path))
    return path


@dataclass
class FakeKernels:
    """Config id -> (seconds, joules) per call; ``jitter`` cycles a factor on each call's joules."""

    meter: ScriptedMeter
    costs: dict[int, tuple[float, float]]
    jitter: dict[int, list[float]] = field(default_factory=dict)
    first_call_extra_s: float = 0.0
    cannot_run: frozenset[int] = frozenset()
    calls: Counter = field(default_factory=Counter)

    def run(self, config: int) -> None:
        if config in self.cannot_run:
            raise ValueError(f"config cfg{config}: shape not divisible by its tile")
        seconds, joules = self.costs[config]
        factors = self.jitter.get(config, [1.0])
        factor = factors[self.calls[config] % len(factors)]
        if self.calls[config] == 0:
            seconds += self.first_call_extra_s
        self.calls[config] += 1
        self.meter.spend(seconds, joules * factor)

    def op(self, name: str = "fake", table_hash: str = "hash-1") -> TunableOp:
        table = [{"id": i, "name": f"cfg{i}"} for i in self.costs]

        def prepare(shape, device, seed):
            m, n, k = shape
            return Problem(shape, "int8", self.run, None, work_ops=2.0 * m * n * k)

        return TunableOp(
            name=name,
            dims=("m", "n", "k"),
            configs=lambda device: table,
            table_hash=lambda device: table_hash,
            prepare=prepare,
            aliases=(f"{name}-alias",),
        )


@pytest.fixture
def fake_op():
    """fake_op(costs, **options) -> FakeKernels, registered as op "fake" for the test."""
    registered = []

    def make(costs, *, meter=None, name="fake", table_hash="hash-1", **options) -> FakeKernels:
        kernels = FakeKernels(meter or ScriptedMeter(), costs, **options)
        register(kernels.op(name, table_hash), replace=True)
        registered.append(name)
        return kernels

    yield make
    for name in registered:
        unregister(name)


# fast (the fastest), mid (8% slower, 20% fewer J), slow (50% slower, 35% fewer J), crawl (2×
# slower, cheapest of all): each objective and guarantee has one exact winner.
TRADE_OFF = {0: (1.0, 10.0), 1: (1.08, 8.0), 2: (1.5, 6.5), 3: (2.0, 4.0)}


@pytest.fixture
def trade_off(fake_op):
    return fake_op(dict(TRADE_OFF), meter=ScriptedMeter(idle_watts=50.0, heat_per_joule=0.01))
