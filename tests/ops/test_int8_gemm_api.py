"""int8_gemm's configuration table, tuned-config hook and argument errors."""

from __future__ import annotations

import numpy as np
import pytest

from lepton import _core
from lepton.ops import MAX_K, config_table, config_table_hash, gemm, int8_gemm


def _fnv1a64(text: str) -> str:
    h = 1469598103934665603
    for byte in text.encode():
        h = ((h ^ byte) * 1099511628211) % 2**64
    return f"{h:016x}"


@pytest.fixture
def ab():
    rng = np.random.default_rng(0)
    return (
        rng.integers(-128, 128, (5, 40), dtype=np.int8),
        rng.integers(-128, 128, (6, 40), dtype=np.int8),
    )


# --- the configuration table ---------------------------------------------------------------


def test_config_table_has_stable_ids_and_distinct_entries():
    table = config_table("int8_gemm")
    assert 6 <= len(table) <= 12
    assert [c["id"] for c in table] == list(range(len(table)))
    assert len({c["name"] for c in table}) == len(table)
    knobs = ("mc", "nc", "kc", "split", "k_split", "max_threads")
    assert len({tuple(c[k] for k in knobs) for c in table}) == len(table)
    for c in table:
        assert c["printable"].startswith(f"id={c['id']} name={c['name']} ")


def test_config_hash_is_fnv1a64_of_the_printable_table():
    text = "".join(c["printable"] + "\n" for c in config_table("int8_gemm"))
    assert config_table_hash("int8_gemm") == _fnv1a64(text)


def test_unknown_config_id_is_named(ab):
    with pytest.raises(ValueError, match="unknown int8_gemm config id 99"):
        int8_gemm(*ab, config=99)
    with pytest.raises(ValueError, match="config id -1"):
        int8_gemm(*ab, config=-1)


def test_config_must_be_an_int(ab):
    with pytest.raises(TypeError, match="config"):
        int8_gemm(*ab, config="2")
    with pytest.raises(TypeError, match="config"):
        int8_gemm(*ab, config=True)


def test_config_unusable_for_the_shape_says_why(ab):
    split = next(c for c in config_table("int8_gemm") if c["k_split"] == 4)
    with pytest.raises(ValueError, match=rf"config {split['id']} .*needs K >= 1024, got K=40"):
        int8_gemm(*ab, config=split["id"])


def test_tuned_config_is_asked_once_per_signature(ab, monkeypatch):
    asked = []
    table = config_table("int8_gemm")
    other = next(c["id"] for c in table if c["k_split"] == 1 and c["id"] != 0)

    def fake_tuned(op, shape, dtype, device="cpu"):
        asked.append((op, shape, dtype, device))
        return other

    monkeypatch.setattr(gemm, "tuned_config", fake_tuned)
    ran = []
    real = gemm._core.int8_gemm
    monkeypatch.setattr(gemm._core, "int8_gemm", lambda *args: ran.append(args[-1]) or real(*args))
    for _ in range(3):
        np.testing.assert_array_equal(int8_gemm(*ab), int8_gemm(*ab, config=other))
    assert asked == [("int8_gemm", (5, 6, 40), "int8", "cpu")]  # the first call's plan serves
    assert ran == [other] * 6


def test_tuned_config_the_shape_cannot_use_falls_back_to_the_heuristic(ab, monkeypatch):
    # A tuned id stored for a neighbouring shape of the bucket may not run this one (split-K 4
    # needs K >= 1024): the heuristic serves, and the refusal is paid once per signature.
    split = next(c for c in config_table("int8_gemm") if c["k_split"] == 4)
    monkeypatch.setattr(gemm, "tuned_config", lambda *args: split["id"])
    ran = []
    real = gemm._core.int8_gemm
    monkeypatch.setattr(gemm._core, "int8_gemm", lambda *args: ran.append(args[-1]) or real(*args))
    a, b = ab
    expected = a.astype(np.int32) @ b.astype(np.int32).T
    for _ in range(2):
        np.testing.assert_array_equal(int8_gemm(*ab), expected)
    assert ran == [split["id"], -1, -1]
    with pytest.raises(ValueError, match=f"config {split['id']}"):  # asked for: it says why
        int8_gemm(*ab, config=split["id"])


def test_heuristic_choices_are_table_entries():
    ids = {c["id"] for c in config_table("int8_gemm")}
    for shape in [
        (1, 4096, 4096),
        (8, 4096, 4096),
        (2048, 2048, 2048),
        (4096, 64, 512),
        (4, 8, 65536),
    ]:
        assert _core.gemm_heuristic_config(*shape, 2) in ids


# --- bad inputs: one test per class --------------------------------------------------------


def test_wrong_dtype_is_a_type_error(ab):
    a, b = ab
    with pytest.raises(TypeError, match="a: expected dtype int8, got float32"):
        int8_gemm(a.astype(np.float32), b)
    with pytest.raises(TypeError, match="b: expected dtype int8, got uint8"):
        int8_gemm(a, b.astype(np.uint8))


def test_wrong_ndim_is_a_value_error(ab):
    a, b = ab
    with pytest.raises(ValueError, match="a: expected a 2-D array"):
        int8_gemm(a[0], b)


def test_k_mismatch(ab):
    a, b = ab
    with pytest.raises(ValueError, match=r"b: expected shape \(N, 40\)"):
        int8_gemm(a, b[:, :39])


def test_empty_input(ab):
    a, b = ab
    with pytest.raises(ValueError, match="a: expected a non-empty array"):
        int8_gemm(a[:0], b)


def test_k_beyond_max_k():
    a = np.zeros((1, MAX_K + 1), dtype=np.int8)
    with pytest.raises(ValueError, match="K=65537 exceeds MAX_K=65536"):
        int8_gemm(a, a)


@pytest.mark.parametrize(("name", "length"), [("a_scale", 4), ("b_scale", 7), ("bias", 5)])
def test_scale_or_bias_length_mismatch(ab, name, length):
    with pytest.raises(ValueError, match=f"{name}: expected length"):
        int8_gemm(*ab, **{name: np.ones(length, np.float32)})


def test_non_finite_scale(ab):
    with pytest.raises(ValueError, match="b_scale: expected finite"):
        int8_gemm(*ab, b_scale=np.array([1, 2, np.nan, 1, 1, 1], np.float32))


def test_unknown_activation(ab):
    with pytest.raises(ValueError, match="activation: expected one of"):
        int8_gemm(*ab, activation="tanh")


def test_unknown_out_dtype(ab):
    with pytest.raises(ValueError, match="out_dtype: expected one of"):
        int8_gemm(*ab, out_dtype="int16")


def test_int32_output_with_an_epilogue(ab):
    with pytest.raises(ValueError, match="out_dtype: int32 output"):
        int8_gemm(*ab, bias=np.zeros(6, np.float32), out_dtype="int32")


def test_max_k_is_exported_and_documented():
    assert MAX_K == 65536
    assert "65536" in (int8_gemm.__doc__ or "")
