"""The joule tuner on the GPU (marked gpu: skipped without one): issue 11's GPU checks."""

import pytest

from lepton.tune import tune
from lepton.tune.objectives import tie_margin

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.filterwarnings("default::lepton.tune.search.TuneWarning"),
    pytest.mark.filterwarnings("default::lepton.energy.measurement.MeasurementWarning"),
]


@pytest.mark.slow  # three 60 s tunings: the gpu-slow phase of scripts/gpu_session.sh
def test_three_tuning_runs_at_8192_cubed_pick_the_same_winner_or_say_it_is_noise():
    pytest.importorskip("torch")
    from lepton._configs import ops_with_configs
    from lepton.energy import meter_for

    if "int8_gemm_cuda" not in ops_with_configs():
        pytest.skip("no int8_gemm_cuda table")
    if not meter_for("cuda:0").has_energy:
        pytest.skip("no energy meter on cuda:0")
    results = [
        tune("gemm", (8192, 8192, 8192), "energy", 1.10, 60, device="cuda:0", seed=s, save=False)
        for s in range(3)
    ]
    for r in results:
        print(
            f"\nseed {r.seed}: winner {r.winner.name} {r.winner.ms:.3f} ms {r.winner.joules:.4g} J"
            f" (busy {r.winner.busy_fraction}), fastest {r.fastest.name}, {r.elapsed_s:.1f} s, "
            f"read cost {r.read_cost_s}; warnings {r.warnings}"
        )
        assert r.elapsed_s <= 63
        assert all(row.busy_fraction is None or row.busy_fraction >= 0.95 for row in r.refined)
    names = {r.winner.name for r in results}
    if len(names) > 1:  # then each run must have measured the others' winners as tied with its own
        for r in results:
            for row in r.refined:
                if row.name in names:
                    assert row.objective <= r.winner.objective * (1 + tie_margin(row, r.winner))
