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


# --- operand splits of the tensor-core Gram variants (bit-exact emulations) ------------------


def round_tf32(v: np.ndarray) -> np.ndarray:
    """``cvt.rna.tf32.f32``: float32 rounded to 10 stored mantissa bits, ties away from zero
    (adding half an ulp of the kept bits to the magnitude bits carries exactly like that)."""
    bits = np.asarray(v, np.float32).view(np.uint32)
    return ((bits + np.uint32(0x1000)) & np.uint32(0xFFFFE000)).view(np.float32)


def round_bf16(v: np.ndarray) -> np.ndarray:
    """``__float2bfloat16_rn`` widened back to float32: 7 stored mantissa bits, ties to even."""
    bits = np.asarray(v, np.float32).view(np.uint32)
    odd = (bits >> np.uint32(16)) & np.uint32(1)
    return ((bits + np.uint32(0x7FFF) + odd) & np.uint32(0xFFFF0000)).view(np.float32)


def split_tf32(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """3×TF32 operands of float32 ``c``: hi = tf32(c), lo = tf32(c − hi) (c − hi is exact)."""
    c = np.asarray(c, np.float32)
    hi = round_tf32(c)
    return hi, round_tf32(c - hi)


def split_bf16(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = np.asarray(c, np.float32)
    hi = round_bf16(c)
    return hi, round_bf16(c - hi)


# --- the 3×TF32 tensor-core tile kernel (gram_tiles_tf32x3_kernel) ---------------------------
#
# Bit-exact here: the operand split (round_tf32 is cvt.rna's result), every address the kernel
# reads (the stage tiles, each lane's fragment registers from the stage, the MMA's documented
# fragment layouts, each lane's output slots), the flush points and the workspace/reduce order.
# Modelled, not bit-exact: the tensor core's FP32 accumulation. The model sums the exact
# products of a flush block (≤ TC_FLUSH_STAGES stages) exactly and rounds that partial to
# float32 once; the hardware rounds (or truncates) after each MMA, which moves an entry by at
# most 24·2⁻²³ of the block's Σ|products| (the bound the GPU tests allow between the two).

TC_PAD, TC_FLUSH_STAGES, TC_WARP_ROWS, TC_WARP_COLS = 8, 4, 32, 16
_LANE = np.arange(32)
_G, _T = _LANE // 4, _LANE % 4  # the PTX fragments' groupID and threadID_in_group


def tc_fragment_addresses(warp: int, kb: int):
    """(k, feature) of every fragment register a warp loads for the k-step at row ``kb``:
    A: [m tile][lane][register], B: [n tile][lane][register] (the kernel's smem reads)."""
    row_base, col_base = (warp // 4) * TC_WARP_ROWS, (warp % 4) * TC_WARP_COLS
    a_k = np.empty((2, 32, 4), int)
    a_f = np.empty((2, 32, 4), int)
    for mt in range(2):
        i = row_base + mt * 16 + _G
        for r, (dk, di) in enumerate(((0, 0), (0, 8), (4, 0), (4, 8))):
            a_k[mt, :, r], a_f[mt, :, r] = kb + _T + dk, i + di
    b_k = np.empty((2, 32, 2), int)
    b_f = np.empty((2, 32, 2), int)
    for nt in range(2):
        j = col_base + nt * 8 + _G
        for r, dk in enumerate((0, 4)):
            b_k[nt, :, r], b_f[nt, :, r] = kb + _T + dk, j
    return (a_k, a_f), (b_k, b_f)


def tc_output_slot(warp: int, mt: int, nt: int, r: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) in the 64×64 tile of accumulator register r of MMA tile (mt, nt), per lane."""
    li = (warp // 4) * TC_WARP_ROWS + mt * 16 + _G + 8 * (r // 2)
    lj = (warp % 4) * TC_WARP_COLS + nt * 8 + 2 * _T + r % 2
    return li, lj


def mma_m16n8k8(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """mma.m16n8k8.row.col with exact products and sums, from the PTX ISA's fragment layouts:
    a (32 lanes, 4): a_r at row g + 8·(r % 2), col t + 4·(r // 2) of A (16 × 8);
    b (32, 2): b_r at row t + 4·r, col g of B (8 × 8); returns d (32, 4): d_r at row
    g + 8·(r // 2), col 2t + r % 2 of A·B. Batched over leading axes of a and b."""
    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    big_a = np.zeros((*shape, 16, 8))
    big_b = np.zeros((*shape, 8, 8))
    for r in range(4):
        big_a[..., _G + 8 * (r % 2), _T + 4 * (r // 2)] = a[..., r]
    for r in range(2):
        big_b[..., _T + 4 * r, _G] = b[..., r]
    prod = big_a @ big_b
    return np.stack([prod[..., _G + 8 * (r // 2), 2 * _T + r % 2] for r in range(4)], axis=-1)


def _stage_tile(flat, rs, cs, row0, row_end, col0, d, shift, col_major):
    """One operand's stage in shared memory as the kernel stores it (pad columns NaN: a read of
    one would poison the result)."""
    sm = np.full((STAGE, TILE + TC_PAD), np.nan, np.float32)
    k, c = _SLOTS[col_major]
    r, col = row0 + k, col0 + c
    ok = (r < row_end) & (col < d)
    sh = np.where(col < d, shift[np.minimum(col, d - 1)], 0).astype(np.float32)
    raw = flat[np.where(ok, r * rs + col * cs, 0)].astype(np.float32)
    sm[k, c] = np.where(ok, raw - sh, np.float32(0))
    return sm


# every (tid, q) load slot of a stage, as index arrays: {col_major: (k, c)}
_SLOTS = {
    cm: tuple(np.array(v) for v in zip(*(load_slot(tid, q, cm) for tid in range(THREADS)
                                           for q in range(4)), strict=True))
    for cm in (False, True)
}  # fmt: skip


def _tc_maps():
    """Every fragment address of a stage and every output slot, batched as
    [warp][k-step][m or n tile][lane][register] (computed once from the per-warp functions)."""
    a_k, a_f, b_k, b_f = (np.empty((8, 2, 2, 32, r), int) for r in (4, 4, 2, 2))
    for w in range(8):
        for step, kb in enumerate((0, 8)):
            (ak, af), (bk, bf) = tc_fragment_addresses(w, kb)
            a_k[w, step], a_f[w, step], b_k[w, step], b_f[w, step] = ak, af, bk, bf
    li, lj = (np.empty((8, 2, 2, 32, 4), int) for _ in range(2))
    for w in range(8):
        for mt in range(2):
            for nt in range(2):
                for r in range(4):
                    li[w, mt, nt, :, r], lj[w, mt, nt, :, r] = tc_output_slot(w, mt, nt, r)
    return (a_k, a_f), (b_k, b_f), (li, lj)


_TC_MAPS = _tc_maps()


def _tc_cta(flat, n, d, rs, cs, shift, p, t, chunk, col_major):
    nb = ceil_div(d, TILE)
    bi, bj = tile_coords(t, nb)
    row0 = chunk * p["chunk_rows"]
    row_end = min(n, row0 + p["chunk_rows"])
    stages = ceil_div(row_end - row0, STAGE)
    (a_k, a_f), (b_k, b_f), (li, lj) = _TC_MAPS
    acc = np.zeros((8, 2, 2, 32, 4))  # [warp][mt][nt][lane][register], exact within a flush
    total = np.zeros((8, 2, 2, 32, 4))
    for s in range(stages):
        r0 = row0 + s * STAGE
        ta = _stage_tile(flat, rs, cs, r0, row_end, bi * TILE, d, shift, col_major)
        tb = ta if bi == bj else _stage_tile(flat, rs, cs, r0, row_end, bj * TILE, d, shift,
                                              col_major)  # fmt: skip
        # [warp][k-step][tile][lane][register]; the MMA batch is [warp][k-step][mt][nt]
        a_hi, a_lo = (v.astype(np.float64)[:, :, :, None] for v in split_tf32(ta[a_k, a_f]))
        b_hi, b_lo = (v.astype(np.float64)[:, :, None] for v in split_tf32(tb[b_k, b_f]))
        # the kernel's order lo·hi, hi·lo, hi·hi (exact here, so the order does not matter)
        for x_a, x_b in ((a_lo, b_hi), (a_hi, b_lo), (a_hi, b_hi)):
            acc += mma_m16n8k8(x_a, x_b).sum(axis=1)
        if (s + 1) % TC_FLUSH_STAGES == 0 or s + 1 == stages:
            total += acc.astype(np.float32)  # the FP32 accumulator's value at the flush
            acc[:] = 0
    out = np.full((TILE, TILE), np.nan)
    out[li, lj] = total
    return out


def centred_gram_tf32x3(x: np.ndarray, *, col_major: bool, sm_count: int = 4, pad: int = 3):
    """(mean, G) the 3×TF32 engine would compute for float32 x (n × d) laid out as asked: the
    same column sums, shift, workspace and reduce as centred_gram, the tile CTAs of
    gram_tiles_tf32x3_kernel."""
    assert x.dtype == np.float32
    n, d = x.shape
    flat, rs, cs = _strided(x, col_major, pad)
    p = plan(n, d, sm_count)
    sums = _column_sums(flat, n, d, rs, cs, p, col_major).reshape(p["sum_chunks"], d)
    mean = sums.sum(axis=0) / n
    shift = mean.astype(np.float32).astype(np.float64)
    ws = np.full(p["chunks"] * p["tiles"] * TILE * TILE, np.nan)
    for chunk in range(p["chunks"]):
        for t in range(p["tiles"]):
            tile = _tc_cta(flat, n, d, rs, cs, shift, p, t, chunk, col_major)
            base = (chunk * p["tiles"] + t) * TILE * TILE
            ws[base : base + TILE * TILE] = tile.reshape(-1)
    return mean, _reduce(ws, p, n, d, mean, shift)


def _reduce(ws, p, n, d, mean, shift):
    """gram_reduce_kernel: Σ chunks in order − n·δᵢδⱼ, mirrored (vectorised over entries)."""
    nb = ceil_div(d, TILE)
    i, j = np.triu_indices(d)
    tiles = tile_index(i // TILE, j // TILE, nb)  # elementwise on index arrays
    off = tiles * TILE * TILE + (i % TILE) * TILE + j % TILE
    s = np.zeros(off.size)
    for c in range(p["chunks"]):
        s = s + ws[c * p["tiles"] * TILE * TILE + off]
    delta = mean - shift
    s = s - n * delta[i] * delta[j]
    gram = np.full((d, d), np.nan)
    gram[i, j] = s
    gram[j, i] = s
    return gram


def tf32x3_error_bound(x: np.ndarray) -> np.ndarray:
    """The stated per-entry bound of the 3×TF32 engine: γ·Σᵣ|cᵣᵢ||cᵣⱼ| with c = x − mean in
    float64 and γ = 3·2⁻²² (split and dropped lo·lo) + 24·2⁻²³ (FP32 accumulation over a flush
    block) + 2·2⁻²⁴ (centring rounded to float32) ≈ 3.7e-6."""
    c = np.abs(x.astype(np.float64) - x.astype(np.float64).mean(axis=0))
    return TF32X3_GAMMA * (c.T @ c)


TF32X3_GAMMA = 3 * 2.0**-22 + 24 * 2.0**-23 + 2 * 2.0**-24
