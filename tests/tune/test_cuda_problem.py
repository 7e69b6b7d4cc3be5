"""Tuning problems on a CUDA device, with fake device arrays, kernels and graph recorders."""

from __future__ import annotations

import numpy as np
import pytest

from lepton.energy.testing import ScriptedMeter
from lepton.tune import Problem, TunableOp, register, tune, unregister
from lepton.tune import cuda_problem as cp


class FakeLibrary:
    """Host arrays standing in for device ones; a recorder that replays ``launches`` calls."""

    name = "fake"

    def __init__(self, *, record=True, record_error=None, replay_differs=False):
        self.syncs = 0
        self.record = record
        self.record_error = record_error
        self.replay_differs = replay_differs
        self.recorded = []

    def upload(self, host):
        return host.copy()

    def sync(self):
        self.syncs += 1

    def equal(self, x, y):
        return bool(np.array_equal(x, y))

    def timer(self):
        return None  # the host clock: the fake device is the host

    def recorder(self):
        if not self.record:
            return None

        def record(fn, launches):
            if self.record_error is not None:
                raise self.record_error
            self.recorded.append(launches)
            last = fn()
            if self.replay_differs:
                last = last + 1

            def replay():
                for _ in range(launches):
                    fn()

            return replay, last

        return record


class FakeGemm:
    """int8 A @ B.T on the host; config 9 is 'not built'; counts calls per config."""

    def __init__(self, unbuilt=(9,)):
        self.calls: dict[object, int] = {}
        self.unbuilt = set(unbuilt)

    def __call__(self, a, b, *, config):
        if config in self.unbuilt:
            raise ValueError(f"config: int8_gemm_cuda config {config} was not built")
        self.calls[config] = self.calls.get(config, 0) + 1
        return a.astype(np.int32) @ b.astype(np.int32).T


def test_short_calls_are_batched_and_long_ones_launch_directly():
    assert cp.launches_for(1e-3) == 1
    assert cp.launches_for(cp.GRAPH_BELOW_S) == 1
    assert cp.launches_for(1e-4) == 20
    assert cp.launches_for(1e-9) == cp.MAX_LAUNCHES
    assert cp.launches_for(4.9e-4) >= 2


def test_a_short_gemm_is_replayed_from_one_graph_per_config(monkeypatch):
    monkeypatch.setattr(cp, "_time_call", lambda call, sync, calls=10: 1e-4)
    lib, gemm = FakeLibrary(), FakeGemm()
    problem = cp.gemm_problem((3, 5, 7), "cuda:0", 0, library=lib, gemm=gemm, heuristic=4)
    assert problem.calls_per_run() == 20
    assert problem.sync == lib.sync
    assert problem.work_ops == 2.0 * 3 * 5 * 7
    before = dict(gemm.calls)
    problem.run(2)  # a direct call to check against, the (fake) recording's one call, a replay
    # to check the graph's output, and the run's own replay
    problem.run(2)  # a replay only
    assert lib.recorded == [20]
    assert gemm.calls[2] - before.get(2, 0) == 1 + 1 + 20 + 20 + 20
    assert "graph of 20 calls" in problem.launch()
    assert problem.launch().startswith("fake arrays")


def test_batches_are_sized_from_the_heuristic_config_not_from_config_none():
    # config=None runs the tuning cache's winner once one is stored: sizing from it would make a
    # re-tune measure differently from the first tune.
    gemm = FakeGemm()
    problem = cp.gemm_problem((3, 5, 7), "cuda:0", 0, library=FakeLibrary(), gemm=gemm, heuristic=4)
    assert gemm.calls == {4: 11}  # one warm-up call and ten timed ones, all of the heuristic's
    assert problem.heuristic == 4


def test_a_config_that_was_not_built_raises_value_error_before_any_recording(monkeypatch):
    monkeypatch.setattr(cp, "_time_call", lambda call, sync, calls=10: 1e-4)
    lib = FakeLibrary()
    problem = cp.gemm_problem((3, 5, 7), "cuda:0", 0, library=lib, gemm=FakeGemm(), heuristic=4)
    with pytest.raises(ValueError, match="not built"):
        problem.run(9)
    assert lib.recorded == []
    assert problem.calls_per_run() == 20  # the other configs still replay graphs


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"record_error": RuntimeError("operation not permitted when stream is capturing")},
         "graph recording failed: RuntimeError"),
        ({"replay_differs": True}, "graph output differs"),
    ],
)  # fmt: skip
def test_a_graph_that_fails_or_disagrees_switches_every_config_to_direct_calls(
    monkeypatch, options, why
):
    monkeypatch.setattr(cp, "_time_call", lambda call, sync, calls=10: 1e-4)
    gemm = FakeGemm()
    problem = cp.gemm_problem(
        (3, 5, 7), "cuda:0", 0, library=FakeLibrary(**options), gemm=gemm, heuristic=4
    )
    assert problem.run(1).shape == (3, 5)  # the call still happens, directly
    assert problem.calls_per_run() == 1
    assert why in problem.launch()
    before = gemm.calls.get(3, 0)
    problem.run(3)
    assert gemm.calls[3] - before == 1


def test_long_calls_and_libraries_without_graphs_launch_directly(monkeypatch):
    monkeypatch.setattr(cp, "_time_call", lambda call, sync, calls=10: 2e-3)
    problem = cp.gemm_problem(
        (4, 4, 4), "cuda:0", 0, library=FakeLibrary(), gemm=FakeGemm(), heuristic=4
    )
    assert problem.calls_per_run() == 1
    assert "long enough" in problem.launch()
    monkeypatch.setattr(cp, "_time_call", lambda call, sync, calls=10: 1e-5)
    lib = FakeLibrary(record=False)
    problem = cp.gemm_problem((4, 4, 4), "cuda:0", 0, library=lib, gemm=FakeGemm(), heuristic=4)
    assert problem.calls_per_run() == 1
    assert "no graph recorder" in problem.launch()


def test_inputs_are_uploaded_through_the_library_and_results_are_exact(monkeypatch):
    monkeypatch.setattr(cp, "_time_call", lambda call, sync, calls=10: 1e-2)
    uploads = []

    class Recording(FakeLibrary):
        def upload(self, host):
            uploads.append(host.shape)
            return super().upload(host)

    problem = cp.gemm_problem(
        (33, 7, 255), "cuda:0", 1, library=Recording(), gemm=FakeGemm(), heuristic=4
    )
    assert uploads == [(33, 255), (7, 255)]
    out = problem.run(0)
    assert out.shape == (33, 7)
    assert out.dtype == np.int32


def test_device_library_names_what_is_missing(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_gpu_libraries(name, *args, **kwargs):
        if name in ("torch", "cupy"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_gpu_libraries)
    with pytest.raises(ValueError, match="torch is not installed; cupy is not installed"):
        cp.device_library("cuda:0")


def test_the_tuner_reports_one_call_when_a_run_replays_several():
    """A run() of 4 calls costs 4× one call: the table must show one call's ms and J."""
    meter = ScriptedMeter(device="cuda:0", idle_watts=60.0)
    costs = {0: (1e-4, 0.04), 1: (1.05e-4, 0.03)}  # per call: config 1 saves 25% at +5%

    def prepare(shape, device, seed):
        def run(config):
            seconds, joules = costs[config]
            meter.spend(4 * seconds, 4 * joules)

        return Problem(
            shape, "int8", run, lambda: None, 2.0 * 64**3,
            calls_per_run=lambda: 4, launch=lambda: "fake graph of 4 calls per replay",
        )  # fmt: skip

    table = [{"id": i, "name": f"cfg{i}"} for i in costs]
    register(
        TunableOp("fake_cuda", ("m", "n", "k"), lambda d: table, lambda d: "h", prepare),
        replace=True,
    )
    try:
        result = tune("fake_cuda", (64, 64, 64), device="cuda:0", meter=meter, seed=0, save=False)
    finally:
        unregister("fake_cuda")
    rows = {r.id: r for r in result.rows}
    assert rows[0].seconds == pytest.approx(1e-4)
    assert rows[0].joules == pytest.approx(0.04)
    assert rows[1].joules == pytest.approx(0.03)
    assert result.winner.id == 1
    assert result.launch == "fake graph of 4 calls per replay"
    assert result.to_dict()["launch"] == result.launch
    assert "fake graph" in str(result)
    assert all(t.repetitions % 4 == 0 for r in result.rows for t in r.trials)


@pytest.mark.gpu
def test_tuning_the_cuda_gemm_on_a_short_shape_uses_graphs_and_stores_a_built_config():
    from lepton import ops
    from lepton._configs import ops_with_configs

    if "int8_gemm_cuda" not in ops_with_configs():
        pytest.skip("no int8_gemm_cuda table")
    result = tune("gemm", (64, 256, 256), "time", budget_s=20, device="cuda", min_window_s=0.05,
                  seed=0, save=False)  # fmt: skip
    built = {c["id"] for c in ops.config_table("int8_gemm_cuda") if c.get("built", True)}
    assert result.winner.id in built
    assert "graph" in result.launch or "direct" in result.launch
    assert result.winner.seconds <= result.max_slowdown * result.fastest.seconds
