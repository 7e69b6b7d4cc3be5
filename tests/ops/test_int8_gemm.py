"""int8_gemm exactness: every ISA path and every configuration against an exact oracle."""

from __future__ import annotations

import numpy as np
import pytest
from _gemm_oracles import gemm_int64
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lepton
from lepton import _core
from lepton.ops import MAX_K, config_table, int8_gemm

ISAS = list(_core.available_isas())
CONFIGS = config_table("int8_gemm")

# Each of 1, 3, 7, 33, 255, 1000 appears in every dimension, on top of tile multiples
# (12 or 24 rows and 64 or 192 columns divide every kernel's mr ∈ {4, 6} and nr ∈ {8, 16, 64}).
ODD_SHAPES = [
    (1, 1, 1),
    (1, 1000, 255),
    (3, 7, 33),
    (7, 3, 1000),
    (33, 255, 7),
    (255, 33, 3),
    (1000, 1, 33),
    (1000, 7, 1),
    (255, 1000, 1),
    (3, 33, 255),
    (7, 255, 1000),
    (33, 3, 255),
]
TILE_SHAPES = [(24, 192, 64), (48, 192, 512), (12, 64, 4), (96, 128, 1024)]


def _random(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-128, 128, shape, dtype=np.int8)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize(("m", "n", "k"), ODD_SHAPES + TILE_SHAPES)
def test_exact_on_odd_and_tile_shapes(isa, m, n, k):
    rng = np.random.default_rng(m * 1_000_003 + n * 1009 + k)
    a, b = _random(rng, (m, k)), _random(rng, (n, k))
    with lepton.isa(isa):
        out = int8_gemm(a, b)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, gemm_int64(a, b))


# K = 1101 passes every config's kc (so partial sums are carried between k blocks) and is long
# enough for split-K into 4 slices; M and N leave short tiles on every kernel.
@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("config", [c["id"] for c in CONFIGS])
@pytest.mark.parametrize("threads", [1, 3])
def test_exact_for_every_config(isa, config, threads):
    rng = np.random.default_rng(config)
    a, b = _random(rng, (37, 1101)), _random(rng, (75, 1101))
    previous = lepton.get_num_threads()
    lepton.set_num_threads(threads)
    try:
        with lepton.isa(isa):
            out = int8_gemm(a, b, config=config)
    finally:
        lepton.set_num_threads(previous)
    np.testing.assert_array_equal(out, gemm_int64(a, b))


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize(
    ("a_value", "b_value"), [(-128, -128), (-128, 127), (127, -128), (127, 127)]
)
def test_exact_at_the_k_bound(isa, a_value, b_value):
    # The u8-shifted VNNI accumulator peaks at 255·128·MAX_K = 2³¹ − 8388608: still exact.
    a = np.full((3, MAX_K), a_value, dtype=np.int8)
    b = np.full((2, MAX_K), b_value, dtype=np.int8)
    with lepton.isa(isa):
        out = int8_gemm(a, b)
    np.testing.assert_array_equal(out, np.full((3, 2), a_value * b_value * MAX_K))


@pytest.mark.parametrize("isa", ISAS)
def test_random_at_the_k_bound(isa):
    rng = np.random.default_rng(7)
    a, b = _random(rng, (2, MAX_K)), _random(rng, (5, MAX_K))
    with lepton.isa(isa):
        np.testing.assert_array_equal(int8_gemm(a, b), gemm_int64(a, b))


def test_thread_count_does_not_change_results():
    rng = np.random.default_rng(3)
    a, b = _random(rng, (70, 600)), _random(rng, (130, 600))
    scale = rng.random(70).astype(np.float32)
    previous = lepton.get_num_threads()
    outs = []
    try:
        for threads in (1, 2, 3):
            lepton.set_num_threads(threads)
            outs.append(int8_gemm(a, b, a_scale=scale, activation="gelu"))
    finally:
        lepton.set_num_threads(previous)
    for out in outs[1:]:
        np.testing.assert_array_equal(out, outs[0])


def test_non_contiguous_inputs_are_copied():
    rng = np.random.default_rng(5)
    a_big, b_big = _random(rng, (40, 90)), _random(rng, (30, 90))
    a, b = a_big[::2, ::3], b_big[::3, ::3]  # strided views
    np.testing.assert_array_equal(int8_gemm(a, b), gemm_int64(a, b))
    np.testing.assert_array_equal(int8_gemm(np.asfortranarray(a), b), gemm_int64(a, b))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    m=st.integers(1, 70),
    n=st.integers(1, 90),
    k=st.integers(1, 700),
    isa=st.sampled_from(ISAS),
    config=st.sampled_from([c["id"] for c in CONFIGS if c["k_split"] == 1]),
    seed=st.integers(0, 2**32 - 1),
)
def test_fuzz_against_oracle(m, n, k, isa, config, seed):
    rng = np.random.default_rng(seed)
    a, b = _random(rng, (m, k)), _random(rng, (n, k))
    with lepton.isa(isa):
        out = int8_gemm(a, b, config=config)
    np.testing.assert_array_equal(out, gemm_int64(a, b))
