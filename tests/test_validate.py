import numpy as np
import pytest

from lepton._validate import choice, host_array, vector


def test_zero_d_keeps_its_shape():
    assert host_array(np.float32(3.0), "x").shape == ()


def test_non_contiguous_and_byteswapped_are_copied():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]
    out = host_array(x, "x")
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, x)
    swapped = np.arange(4, dtype=">i4")
    assert host_array(swapped, "x").dtype.isnative


@pytest.mark.parametrize(
    ("value", "error", "pattern"),
    [
        (None, TypeError, "x: expected an array, got None"),
        (np.array([object()]), TypeError, "x: expected a numeric array"),
        (np.zeros((0, 3), np.float32), ValueError, "x: expected a non-empty array"),
        (np.zeros(3, np.float32), ValueError, "x: expected a 2-D array"),
        (np.zeros((2, 2), np.int16), TypeError, "x: expected dtype float32"),
    ],
)
def test_bad_inputs_name_the_argument(value, error, pattern):
    with pytest.raises(error, match=pattern):
        host_array(value, "x", dtypes=[np.float32], ndim=2)


def test_vector_and_choice():
    np.testing.assert_array_equal(vector([1, 2], "bias", 2), np.array([1, 2], np.float32))
    with pytest.raises(ValueError, match="bias: expected length 3"):
        vector([1, 2], "bias", 3)
    with pytest.raises(TypeError, match="bias: expected a real numeric vector"):
        vector(np.array([True, False]), "bias", 2)
    with pytest.raises(ValueError, match="activation: expected one of"):
        choice("tanh", "activation", [None, "relu"])
