"""The memory layout a preprocessing pass reads its input in, and the order of its output.

One rule for the CPU op and the CUDA op (the tests check both against :func:`output_order`):

* **Row-major** ``x``: unit stride along each row, rows ``ld >= cols`` elements apart (C-ordered
  arrays and row ranges / every-k-th row / leading-column views of them) → a C-ordered output.
* **Column-major** ``x``: unit stride down each column, columns ``ld >= rows`` apart
  (Fortran-ordered arrays and their row ranges / column subsets) → a Fortran-ordered output.
* Anything else (no unit stride, negative or zero strides) is copied to C order first → a
  C-ordered output.

The CUDA kernels read both layouts in place; the CPU kernel reads C- and F-contiguous arrays in
place and copies a strided view to the contiguous array of the same order, so the output order
never depends on the device. A single row or column satisfies both layouts; its output is both
C- and F-contiguous.
"""

from __future__ import annotations

ROW_MAJOR, COLUMN_MAJOR = 0, 1


def matrix_layout(
    shape: tuple[int, int], strides: tuple[int, int], itemsize: int
) -> tuple[int, int] | None:
    """``(layout, ld)`` of a 2-D array read in place (strides in bytes), or ``None``: copy it.

    Row-major: unit stride along a row, rows ``ld`` elements apart (``ld >= cols``);
    column-major: unit stride down a column, columns ``ld`` apart (``ld >= rows``).
    """
    rows, cols = shape
    if any(s % itemsize for s in strides):
        return None
    e0, e1 = (s // itemsize for s in strides)
    if cols == 1 and (rows == 1 or e0 == 1):
        return COLUMN_MAJOR, rows  # one contiguous column: vectors run down it
    if cols == 1 or e1 == 1:
        ld = e0 if rows > 1 else cols
        if ld >= cols:
            return ROW_MAJOR, ld
    if rows == 1 or e0 == 1:
        ld = e1 if cols > 1 else rows
        if ld >= rows:
            return COLUMN_MAJOR, ld
    return None


def output_order(shape: tuple[int, int], strides: tuple[int, int], itemsize: int) -> str:
    """``"F"`` for a column-major input, else ``"C"`` (the rule in the module docstring)."""
    layout = matrix_layout(shape, strides, itemsize)
    return "F" if layout is not None and layout[0] == COLUMN_MAJOR else "C"
