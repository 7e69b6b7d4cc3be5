"""``Preprocessor`` on cupy arrays and torch CUDA tensors against the same estimator on numpy
(needs a GPU), and the CPU twins of the GPU tests' expectations."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ops"))
from _cuda_libs import LIBRARIES, to_device, to_host

from lepton import Preprocessor

ATTRS = ("mean_", "var_", "data_min_", "data_max_", "fill_value_", "clip_low_", "clip_high_",
         "center_", "scale_")  # fmt: skip


def make_x(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, d)) * 3 + 10).astype(np.float32)
    x[rng.random((n, d)) < 0.05] = np.nan
    x[rng.random((n, d)) < 0.01] = np.inf
    return x


# Uneven partial_fit batches: one row, 899, one, 2099 and 2000 (issue 13: a one-row batch has
# all-NaN columns that the merged statistics do not).
SPLITS = [1, 900, 901, 3000]


def finite_oracle(x: np.ndarray) -> dict[str, np.ndarray]:
    """The fitted statistics in float64 numpy: over each column's finite values, population
    variance (scikit-learn's StandardScaler)."""
    v = np.where(np.isfinite(x), x.astype(np.float64), np.nan)
    return {"mean_": np.nanmean(v, axis=0), "var_": np.nanvar(v, axis=0),
            "data_min_": np.nanmin(v, axis=0), "data_max_": np.nanmax(v, axis=0)}  # fmt: skip


def check_batched(batched: Preprocessor, whole: Preprocessor, x: np.ndarray) -> None:
    for attr, want in finite_oracle(x).items():
        np.testing.assert_allclose(getattr(whole, attr), want, rtol=1e-12, err_msg=attr)
        np.testing.assert_allclose(getattr(batched, attr), want, rtol=1e-12, err_msg=attr)
    assert batched.n_samples_seen_ == whole.n_samples_seen_ == x.shape[0]


def test_partial_fit_on_uneven_batches_equals_fit_and_the_oracle_on_the_cpu():
    """The expectation of test_partial_fit_on_batches_equals_fit (GPU), on numpy batches."""
    x = make_x(5000, 7, seed=1)
    assert np.isnan(x[0]).any()  # the one-row batch has a column without a finite value
    whole = Preprocessor().fit(x)
    batched = Preprocessor()
    for part in np.array_split(x, SPLITS):
        batched.partial_fit(part)  # no EmptyColumnWarning (an error under the suite's filter)
    check_batched(batched, whole, x)
    np.testing.assert_allclose(batched.transform(x), whole.transform(x), rtol=0, atol=1e-6)


@pytest.mark.gpu
@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("params", [{}, {"clip_sigma": 3.0, "scale": "minmax"},
                                    {"impute": "zero", "out_dtype": np.int8}])  # fmt: skip
def test_fit_transform_matches_numpy(lib, params):
    x = make_x(10_007, 33)
    cpu = Preprocessor(**params).fit(x)
    gpu = Preprocessor(**params).fit(to_device(x, lib))
    for attr in ATTRS:
        np.testing.assert_allclose(getattr(gpu, attr), getattr(cpu, attr), rtol=1e-12, atol=1e-12)
    assert gpu.n_features_in_ == 33
    assert gpu.n_samples_seen_ == 10_007
    out = gpu.transform(to_device(x, lib))
    assert type(out).__module__.split(".")[0] == lib
    want = cpu.transform(x)
    got = to_host(out)
    assert got.dtype == want.dtype
    tol = 1 if want.dtype == np.int8 else 1e-5  # stats differ by float64 round-off
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=0, atol=tol)
    both = to_host(Preprocessor(**params).fit_transform(to_device(x, lib)))
    np.testing.assert_array_equal(both, got)


@pytest.mark.gpu
@pytest.mark.parametrize("lib", LIBRARIES)
def test_partial_fit_on_batches_equals_fit(lib):
    x = make_x(5000, 7, seed=1)
    whole = Preprocessor().fit(to_device(x, lib))
    batched = Preprocessor()
    for part in np.array_split(x, SPLITS):
        batched.partial_fit(to_device(part, lib))
    for attr in ("mean_", "var_", "data_min_", "data_max_"):
        np.testing.assert_allclose(getattr(batched, attr), getattr(whole, attr), rtol=1e-12)
    check_batched(batched, whole, x)


@pytest.mark.gpu
@pytest.mark.parametrize("lib", LIBRARIES)
def test_float16_and_wrong_width(lib):
    x = make_x(1000, 5, seed=2)
    pre = Preprocessor(out_dtype=None).fit(to_device(x.astype(np.float16), lib))
    out = to_host(pre.transform(to_device(x.astype(np.float16), lib)))
    assert out.dtype == np.float16
    with pytest.raises(ValueError, match="X has 4 features"):
        pre.transform(to_device(x[:, :4], lib))
