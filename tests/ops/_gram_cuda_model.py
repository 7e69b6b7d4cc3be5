"""A numpy model of csrc/cuda/pca/gram_cuda.cu's index arithmetic, runnable without a GPU.

It follows the kernels step by step: the plan (row chunks of the Gram and column-sum kernels,
workspace size), the column-sum lanes and their in-order reduction, the mean/shift kernel, the
upper-triangle tile enumeration (``tile_coords`` and its inverse ``tile_index``), the
``load_slot`` mapping of each thread's four loads into a shared-memory stage for row- and
column-major x (strided addresses included), the 16 × 16 threads' 4 × 4 output blocks, the
float32 flush every ``FLUSH_STAGES`` stages, the workspace layout and the reduce kernel's
δ-correction and mirroring. The products of one stage are summed with numpy (not in the
kernel's FMA order): the model checks the layout, not the rounding. Keep it in step with the
kernel when either changes.
"""

from __future__ import annotations

import numpy as np

TILE, STAGE, THREADS, FLUSH_STAGES = 64, 16, 256, 8
MIN_CHUNK_ROWS, CTAS_PER_SM, SUM_THREADS, SUM_BLOCKS_PER_SM = 256, 2, 256, 8


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def plan(n: int, d: int, sm_count: int) -> dict[str, int]:
    """gram_plan() of the kernel."""
    nb = ceil_div(d, TILE)
    tiles = nb * (nb + 1) // 2
    target = 2 * CTAS_PER_SM * max(sm_count, 1)
    max_chunks = max(1, ceil_div(n, MIN_CHUNK_ROWS))
    chunks = min(max(ceil_div(target, tiles), 1), max_chunks)
    chunk_rows = ceil_div(ceil_div(n, chunks), STAGE) * STAGE
    chunks = ceil_div(n, chunk_rows)
    sum_target = SUM_BLOCKS_PER_SM * max(sm_count, 1)
    sum_chunks = min(max(ceil_div(sum_target, ceil_div(d, 32)), 1), max_chunks)
    sum_rows = ceil_div(n, sum_chunks)
    sum_chunks = ceil_div(n, sum_rows)
    workspace = chunks * tiles * TILE * TILE + sum_chunks * d + d
    return {"tiles": tiles, "chunks": chunks, "chunk_rows": chunk_rows,
            "sum_chunks": sum_chunks, "sum_rows": sum_rows, "workspace": workspace}  # fmt: skip


def tile_coords(t: int, nb: int) -> tuple[int, int]:
    bi = 0
    while t >= nb - bi:
        t -= nb - bi
        bi += 1
    return bi, bi + t


def tile_index(bi: int, bj: int, nb: int) -> int:
    return bi * nb - bi * (bi - 1) // 2 + (bj - bi)


def load_slot(tid: int, q: int, col_major: bool) -> tuple[int, int]:
    e = tid + THREADS * q
    return (e % STAGE, e // STAGE) if col_major else (e // TILE, e % TILE)


def _strided(x: np.ndarray, col_major: bool, pad: int) -> tuple[np.ndarray, int, int]:
    """x's elements in a flat buffer with the kernel's (row, column) element strides."""
    n, d = x.shape
    if col_major:
        rs, cs = 1, n + pad
        flat = np.zeros(cs * d, x.dtype)
    else:
        rs, cs = d + pad, 1
        flat = np.zeros(rs * n, x.dtype)
    rows, cols = np.meshgrid(np.arange(n), np.arange(d), indexing="ij")
    flat[rows * rs + cols * cs] = x
    return flat, rs, cs


def _column_sums(flat, n, d, rs, cs, p, col_major):
    lanes = 32 if col_major else 8
    cols_per_block = SUM_THREADS // lanes
    part = np.zeros(p["sum_chunks"] * d)
    for by in range(p["sum_chunks"]):
        row0 = by * p["sum_rows"]
        row_end = min(n, row0 + p["sum_rows"])
        for bx in range(ceil_div(d, cols_per_block)):
            partial = np.zeros(SUM_THREADS)
            for tid in range(SUM_THREADS):
                lane = tid % 32 if col_major else tid // 32
                cl = tid // 32 if col_major else tid % 32
                col = bx * cols_per_block + cl
                s = 0.0
                if col < d:
                    for r in range(row0 + lane, row_end, lanes):
                        s += float(flat[r * rs + col * cs])
                partial[lane * cols_per_block + cl] = s
            for cl in range(cols_per_block):
                col = bx * cols_per_block + cl
                if col < d:
                    lane_sums = (partial[la * cols_per_block + cl] for la in range(lanes))
                    part[by * d + col] = sum(lane_sums)
    return part


def _tile_cta(flat, n, d, rs, cs, shift, p, t, chunk, col_major, dtype):
    nb = ceil_div(d, TILE)
    bi, bj = tile_coords(t, nb)
    row0 = chunk * p["chunk_rows"]
    row_end = min(n, row0 + p["chunk_rows"])
    stages = ceil_div(row_end - row0, STAGE)
    part = np.zeros((16, 16, 4, 4), dtype)  # [ty, tx, i, j]
    total = np.zeros((16, 16, 4, 4))
    for s in range(stages):
        tiles = []
        for col0 in (bi * TILE, bj * TILE):
            sm = np.full((STAGE, TILE), np.nan, dtype)  # a slot never written shows up as NaN
            for tid in range(THREADS):
                for q in range(4):
                    k, c = load_slot(tid, q, col_major)
                    r, col = row0 + s * STAGE + k, col0 + c
                    sh = dtype.type(shift[col]) if col < d else dtype.type(0)
                    ok = r < row_end and col < d
                    sm[k, c] = flat[r * rs + col * cs] - sh if ok else 0
            tiles.append(sm)
        a, b = tiles
        for ty in range(16):
            for tx in range(16):
                part[ty, tx] += a[:, ty * 4 : ty * 4 + 4].T @ b[:, tx * 4 : tx * 4 + 4]
        last = s + 1 == stages
        if dtype == np.float32 and ((s + 1) % FLUSH_STAGES == 0 or last):
            total += part
            part[:] = 0
    if dtype == np.float64:
        total = part.astype(np.float64)
    out = np.zeros((TILE, TILE))
    for ty in range(16):
        for tx in range(16):
            out[ty * 4 : ty * 4 + 4, tx * 4 : tx * 4 + 4] = total[ty, tx]
    return out


def centred_gram(x: np.ndarray, *, col_major: bool, sm_count: int = 4, pad: int = 3):
    """(mean, G) the kernels would compute for x (n × d) laid out as asked."""
    n, d = x.shape
    dtype = x.dtype
    flat, rs, cs = _strided(x, col_major, pad)
    p = plan(n, d, sm_count)
    ws = np.full(p["workspace"], np.nan)
    sums_off = p["chunks"] * p["tiles"] * TILE * TILE
    ws[sums_off : sums_off + p["sum_chunks"] * d] = _column_sums(flat, n, d, rs, cs, p, col_major)
    part = ws[sums_off : sums_off + p["sum_chunks"] * d].reshape(p["sum_chunks"], d)
    mean = part.sum(axis=0) / n  # the kernel sums chunks in order, like this
    shift = mean.astype(dtype).astype(np.float64)
    for chunk in range(p["chunks"]):
        for t in range(p["tiles"]):
            tile = _tile_cta(flat, n, d, rs, cs, shift, p, t, chunk, col_major, dtype)
            base = (chunk * p["tiles"] + t) * TILE * TILE
            ws[base : base + TILE * TILE] = tile.reshape(-1)
    nb = ceil_div(d, TILE)
    gram = np.full((d, d), np.nan)
    for i in range(d):
        for j in range(i, d):
            off = tile_index(i // TILE, j // TILE, nb) * TILE * TILE + (i % TILE) * TILE + j % TILE
            s = sum(ws[c * p["tiles"] * TILE * TILE + off] for c in range(p["chunks"]))
            s -= n * (mean[i] - shift[i]) * (mean[j] - shift[j])
            gram[i, j] = gram[j, i] = s
    return mean, gram
