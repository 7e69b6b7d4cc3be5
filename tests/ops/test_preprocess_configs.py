"""The fused preprocessing's configuration table, and every config against the reference."""

from __future__ import annotations

import re

import numpy as np
import pytest
from test_preprocess import assert_matches_reference, make_data

import lepton
import lepton.ops.preprocess_stats as preprocess_stats
from lepton import _core, ops
from lepton._configs import ops_with_configs
from lepton.ops import column_stats, preprocess
from lepton.ops.preprocess import apply_plan, make_plan

TABLE = ops.config_table("preprocess")
IDS = [int(c["id"]) for c in TABLE]
STAT_FIELDS = ("count", "mean", "m2", "min", "max")
KNOBS = ("item_kib", "stream_min_mib", "max_threads", "apply_order")


def fnv1a64(text: str) -> int:
    h = 1469598103934665603
    for byte in text.encode():
        h = ((h ^ byte) * 1099511628211) % 2**64
    return h


# --- the table ----------------------------------------------------------------------------------


def test_table_ids_are_stable_and_names_unique():
    assert 6 <= len(TABLE) <= 10
    assert sorted(IDS) == IDS == [*range(len(TABLE))]
    assert len({c["name"] for c in TABLE}) == len(TABLE)
    # no two entries with the same knobs
    knobs = {tuple(c[k] for k in KNOBS) for c in TABLE}
    assert len(knobs) == len(TABLE)
    for c in TABLE:
        assert c["item_kib"] > 0
        assert c["stream_min_mib"] >= -1
        assert c["max_threads"] >= 0
        assert c["apply_order"] in ("forward", "backward")
        for key in ("id", "name", "item_kib", "stream_min_mib", "max_threads", "apply_order"):
            assert f"{key}={c[key]}" in c["printable"]


def test_entry_zero_is_the_built_in_behaviour():
    assert tuple(TABLE[0][k] for k in KNOBS) == (4096, 16, 0, "backward")


def test_hash_is_fnv1a_of_the_printable_table():
    text = "".join(c["printable"] + "\n" for c in TABLE)
    digest = ops.config_table_hash("preprocess")
    assert re.fullmatch("[0-9a-f]{16}", digest)
    assert digest == f"{fnv1a64(text):016x}" == _core.preprocess_config_hash()
    assert "preprocess" in ops_with_configs()


# --- every config gives the reference's result ----------------------------------------------------


@pytest.mark.parametrize("config", IDS)
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (7, 3), (33, 5), (255, 17), (1000, 33)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_every_config_matches_the_reference(config, shape, dtype, order):
    rng = np.random.default_rng(hash((shape, order)) % 2**32)
    x = make_data(rng, shape, dtype, nan=0.0 if shape[0] == 1 else 0.05, inf=0.0, order=order)
    options = {"impute": "mean", "clip_sigma": 2.5, "scale": "standard"}
    out = preprocess(x, **options, config=config)
    assert out.flags.f_contiguous if order == "F" else out.flags.c_contiguous
    assert_matches_reference(x, out, **options)


def assert_stats_equal(a, b, *, exact):
    for name in ("count", "min", "max"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    if exact:
        np.testing.assert_array_equal(a.mean, b.mean)
        np.testing.assert_array_equal(a.m2, b.m2)
    else:
        # Another work-item size regroups the float64 partial sums and their Chan merges: the
        # mean moves by a few ulps of its scale, M2 by a few ulps relative to itself.
        scale = np.abs(a.mean) + np.sqrt(a.m2 / np.maximum(a.count, 1))
        np.testing.assert_array_less(np.abs(a.mean - b.mean), 64 * 2.0**-52 * scale)
        np.testing.assert_allclose(a.m2, b.m2, rtol=1e-12, atol=0)


@pytest.mark.parametrize("order", ["C", "F"])
def test_stats_agree_across_configs(order):
    # 10 MB: 20 items of 512 KiB, 3 of 4 MiB, one of 16 MiB
    x = make_data(np.random.default_rng(1), (40_000, 64), np.float32, order=order)
    base = column_stats(x, config=0)
    for c in TABLE:
        stats = column_stats(x, config=c["id"])
        assert_stats_equal(stats, base, exact=c["item_kib"] == TABLE[0]["item_kib"])


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("out_dtype", [np.float32, np.float16, np.int8])
def test_apply_output_is_identical_across_configs(order, out_dtype):
    # 18 MB of float32 output: past the 16 MiB streaming threshold, so both store paths run
    x = make_data(np.random.default_rng(2), (70_000, 64), np.float32, order=order)
    plan = make_plan(column_stats(x), clip_sigma=3.0, out_dtype=out_dtype)
    base = apply_plan(x, plan, config=0)
    for config in IDS[1:]:
        np.testing.assert_array_equal(apply_plan(x, plan, config=config), base)


def test_single_thread_config_under_many_threads_and_vice_versa():
    x = make_data(np.random.default_rng(3), (20_000, 40), np.float64)
    one_thread = next(c["id"] for c in TABLE if c["max_threads"] == 1)
    before = lepton.get_num_threads()
    try:
        lepton.set_num_threads(1)
        a = preprocess(x, config=one_thread)
        lepton.set_num_threads(2)
        b = preprocess(x, config=one_thread)
        c = preprocess(x, config=0)
    finally:
        lepton.set_num_threads(before)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


# --- config=None and bad ids ----------------------------------------------------------------------


def test_config_none_without_a_tuned_entry_is_entry_zero(monkeypatch, tmp_path):
    monkeypatch.setenv("LEPTON_CACHE_DIR", str(tmp_path))
    x = make_data(np.random.default_rng(4), (5_000, 9), np.float32)
    for name in STAT_FIELDS:
        np.testing.assert_array_equal(
            getattr(column_stats(x), name), getattr(column_stats(x, config=0), name)
        )
    np.testing.assert_array_equal(preprocess(x), preprocess(x, config=0))


def test_config_none_asks_the_tuning_cache_with_shape_and_dtype(monkeypatch):
    asked = []

    def fake(op, shape, dtype, device="cpu"):
        asked.append((op, tuple(shape), dtype, device))
        return 5

    monkeypatch.setattr(preprocess_stats, "tuned_config", fake)
    x = make_data(np.random.default_rng(5), (300, 7), np.float64)
    np.testing.assert_array_equal(preprocess(x), preprocess(x, config=0))
    assert asked == [("preprocess", (300, 7), "float64", "cpu")]  # one lookup for both passes


@pytest.mark.parametrize("bad", [99, len(TABLE), 2**31 - 1, 2**40])
def test_unknown_config_id_is_named(bad):
    x = np.ones((4, 3), np.float32)
    with pytest.raises(ValueError, match=f"unknown preprocess config id {bad}"):
        preprocess(x, config=bad)
    with pytest.raises(ValueError, match=f"unknown preprocess config id {bad}"):
        column_stats(x, config=bad)


def test_negative_config_id_is_rejected():
    with pytest.raises(ValueError, match="unknown preprocess config id -1"):
        preprocess(np.ones((4, 3), np.float32), config=-1)


@pytest.mark.parametrize("bad", [True, 1.0, "0"])
def test_config_of_the_wrong_type_is_rejected(bad):
    with pytest.raises(TypeError, match="config: expected a preprocess config id"):
        column_stats(np.ones((4, 3), np.float32), config=bad)
