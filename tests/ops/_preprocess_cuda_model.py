"""A Python model of the CUDA preprocessing kernels' index arithmetic and reduction order.

It walks the work decomposition the core plans (``_core.prep_cuda_plan``) exactly as
``csrc/cuda/preprocess/stats_cuda.cu`` and ``apply_cuda.cu`` do — items, thread → (row group,
column vector), unrolled loads with their bounds, folds every FOLD_STEPS steps, the block's
shared-memory tree, the slot-merge warp's shuffle tree — so that a wrong bound or a skipped or
doubled element shows up on the CPU, without a GPU. Plain Python floats are IEEE float64
(the kernel's fma in s2 is modelled as a multiply-add: the model is checked to round-off).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FOLD_STEPS = 8  # stats_cuda.cu: kFoldSteps
INF = math.inf


@dataclass
class Moments:
    n: float = 0.0
    mean: float = 0.0
    m2: float = 0.0
    lo: float = INF
    hi: float = -INF

    def merge(self, b: Moments) -> None:
        if b.n > 0:
            n = self.n + b.n
            frac = b.n / n
            delta = b.mean - self.mean
            self.mean += delta * frac
            self.m2 += b.m2 + delta * delta * self.n * frac
            self.n = n
        self.lo, self.hi = min(self.lo, b.lo), max(self.hi, b.hi)

    def copy(self) -> Moments:
        return Moments(self.n, self.mean, self.m2, self.lo, self.hi)


class Acc:
    """stats_cuda.cu: Acc (shifted sums folded with Chan's merge)."""

    def __init__(self) -> None:
        self.n = self.mean = self.m2 = self.s1 = self.s2 = 0.0
        self.c = 0
        self.lo, self.hi = INF, -INF

    def add(self, w: float) -> None:
        f = math.isfinite(w)
        if f and self.c == 0 and self.n == 0.0:
            self.mean = w
        d = w - self.mean if f else 0.0
        self.c += 1 if f else 0
        self.s1 += d
        self.s2 += d * d
        if f:
            self.lo, self.hi = min(self.lo, w), max(self.hi, w)

    def fold(self) -> None:
        if self.c > 0:
            cb = float(self.c)
            offset = self.s1 / cb
            m2b = max(self.s2 - self.s1 * offset, 0.0)
            total = self.n + cb
            frac = cb / total
            self.m2 += m2b + offset * offset * self.n * frac
            self.mean += offset * frac
            self.n = total
        self.c, self.s1, self.s2 = 0, 0.0, 0.0

    def moments(self) -> Moments:
        return Moments(self.n, self.mean, self.m2, self.lo, self.hi)


_F = np.float32


def _two_sum(a: np.float32, b: np.float32) -> tuple[np.float32, np.float32]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _fma32(a: np.float32, b: np.float32, c: np.float32) -> np.float32:
    """fl32(a·b + c): the product is exact in float64; the float64 sum is exact for the
    operands this model passes (d² − fl32(d²), and 2·d·de + that), up to a rare double rounding."""
    return _F(float(a) * float(b) + float(c))


class AccF32x2:
    """stats_cuda.cu: AccF32x2 (float32-pair shifted sums between float64 folds), in numpy
    float32 scalar arithmetic (IEEE round-to-nearest, like the kernel's _rn intrinsics)."""

    PAIR_MAX, PAIR_MIN = 2.0**56, 2.0**-51

    def __init__(self) -> None:
        self.n = self.mean = self.m2 = 0.0
        self.k = self.s1h = self.s1l = self.s2h = self.s2l = _F(0)
        self.c = 0
        self.seen = False
        self.lo, self.hi = INF, -INF

    def add(self, w: float) -> None:
        f = math.isfinite(w)
        w32 = _F(w)
        if f and not self.seen:
            self.seen, self.k = True, w32
        with np.errstate(over="ignore", invalid="ignore"):
            ad = abs(float(w32 - self.k))
        if f and ad < self.PAIR_MAX and (ad >= self.PAIR_MIN or ad == 0.0):
            d, de = _two_sum(w32, -self.k)
            self.s1h, e = _two_sum(self.s1h, d)
            self.s1l = self.s1l + (e + de)
            p = d * d
            pe = _fma32(d, d, -p)
            cross = _fma32(_F(2) * d, de, pe)
            self.s2h, e = _two_sum(self.s2h, p)
            self.s2l = self.s2l + (e + cross)
            self.c += 1
        elif f:  # outside the pair range: Welford's update of the float64 moments
            x = float(w32)
            total = self.n + 1.0
            delta = x - self.mean
            self.mean += delta / total
            self.m2 += delta * (x - self.mean)
            self.n = total
        if f:
            self.lo, self.hi = min(self.lo, w), max(self.hi, w)

    def fold(self) -> None:
        if self.c > 0:
            cb = float(self.c)
            s1 = float(self.s1h) + float(self.s1l)
            s2 = float(self.s2h) + float(self.s2l)
            offset = s1 / cb
            m2b = max(s2 - s1 * offset, 0.0)
            delta = (float(self.k) - self.mean) + offset
            total = self.n + cb
            frac = cb / total
            self.m2 += m2b + delta * delta * self.n * frac
            self.mean += delta * frac
            self.n = total
        if self.n > 0.0:
            self.k = _F(self.mean)
        self.c = 0
        self.s1h = self.s1l = self.s2h = self.s2l = _F(0)

    def moments(self) -> Moments:
        return Moments(self.n, self.mean, self.m2, self.lo, self.hi)


ACCUMULATORS = {"f64": Acc, "f32x2": AccF32x2}  # a config's "accumulate" -> the model's class


def _element(x: np.ndarray, r: int, c: int, r1: int, visits: np.ndarray) -> float:
    if r >= r1:
        return math.nan  # the kernel's NaN padding: ignored by the statistics
    visits[r, c] += 1
    return float(x[r, c])


def _thread_values(x: np.ndarray, p: dict, chunk: int, tile: int, tid: int, visits: np.ndarray):
    """(active, first column, [[values of accumulator a] per step]) for one thread."""
    rows, cols = x.shape
    v, u_n, tv, groups = p["vec"], p["unroll"], p["tile_vecs"], p["groups"]
    r0 = chunk * p["rows_per_chunk"]
    r1 = min(rows, r0 + p["rows_per_chunk"])
    steps = []
    if p["layout"] == 0:
        cv, g = tid % tv, tid // tv
        col0 = (tile * tv + cv) * v
        if not (g < groups and col0 < cols):
            return False, col0, steps
        r = r0 + g
        while r < r1:
            accs = [[] for _ in range(v)]
            for u in range(u_n):
                for k in range(v):
                    accs[k].append(_element(x, r + u * groups, col0 + k, r1, visits))
            steps.append(accs)
            r += groups * u_n
        return True, col0, steps
    col0 = tile
    q = r0 + tid * v
    while q < r1:
        vals = []
        for u in range(u_n):
            s = q + u * p["threads"] * v
            vals += [_element(x, s + k, col0, r1, visits) for k in range(v)]
        steps.append([vals])
        q += p["threads"] * v * u_n
    return True, col0, steps


def column_stats(x: np.ndarray, p: dict, accumulate: str = "f64") -> tuple[np.ndarray, np.ndarray]:
    """The kernels' (5, cols) result for ``x`` (float64 values), and the visit count per element
    (x is given in logical (rows, cols) orientation; ``p['layout']`` says how it is walked).
    ``accumulate``: the config's "accumulate" (f32x2 takes float32-representable values)."""
    acc_class = ACCUMULATORS[accumulate]
    _rows, cols = x.shape
    visits = np.zeros(x.shape, dtype=np.int64)
    n_acc = p["vec"] if p["layout"] == 0 else 1
    slots: dict[tuple[int, int], Moments] = {}
    tv, groups = p["tile_vecs"], p["groups"]
    for item in range(p["items"]):
        chunk, tile = divmod(item, p["tiles"])
        threads = []
        for tid in range(p["threads"]):
            active, col0, steps = _thread_values(x, p, chunk, tile, tid, visits)
            accs = [acc_class() for _ in range(n_acc)]
            for i, step in enumerate(steps, start=1):
                for a, vals in enumerate(step):
                    for w in vals:
                        accs[a].add(w)
                if i % FOLD_STEPS == 0:
                    for acc in accs:
                        acc.fold()
            for acc in accs:
                acc.fold()
            threads.append((active, col0, [acc.moments() for acc in accs]))
        for a in range(n_acc):
            red = [t[2][a] if t[0] else Moments() for t in threads]
            top = 1
            while top < groups:
                top *= 2
            s = top // 2
            while s > 0:
                for tid in range(p["threads"]):
                    g = tid // tv
                    if g < s and g + s < groups:
                        red[tid].merge(red[tid + s * tv])
                s //= 2
            for tid, (active, col0, _) in enumerate(threads):
                if tid // tv == 0 and active:
                    key = (chunk, col0 + a)
                    assert key not in slots, f"slot {key} written twice"
                    slots[key] = red[tid].copy()
    out = np.zeros((5, cols))
    for c in range(cols):
        lanes = [Moments() for _ in range(32)]
        for k in range(p["chunks"]):
            lanes[k % 32].merge(slots[(k, c)])
        for off in (16, 8, 4, 2, 1):
            old = [m.copy() for m in lanes]
            for lane in range(32 - off):
                lanes[lane].merge(old[lane + off])
        m = lanes[0]
        out[:, c] = (m.n, m.mean, m.m2, m.lo, m.hi)
    return out, visits


def apply_writes(shape: tuple[int, int], p: dict, backward: bool) -> np.ndarray:
    """How many times the apply kernel writes each output element (must be once)."""
    rows, cols = shape
    writes = np.zeros(shape, dtype=np.int64)
    v, u_n, tv, groups = p["vec"], p["unroll"], p["tile_vecs"], p["groups"]
    for step_item in range(p["items"]):
        item = p["items"] - 1 - step_item if backward else step_item
        chunk, tile = divmod(item, p["tiles"])
        r0 = chunk * p["rows_per_chunk"]
        r1 = min(rows, r0 + p["rows_per_chunk"])
        for tid in range(p["threads"]):
            if p["layout"] == 0:
                cv, g = tid % tv, tid // tv
                col0 = (tile * tv + cv) * v
                if g >= groups or col0 >= cols:
                    continue
                for r in range(r0 + g, r1, groups * u_n):
                    for u in range(u_n):
                        if r + u * groups < r1:
                            writes[r + u * groups, col0 : col0 + v] += 1
            else:
                for q in range(r0 + tid * v, r1, p["threads"] * v * u_n):
                    for u in range(u_n):
                        s = q + u * p["threads"] * v
                        if s < r1:
                            writes[s : min(s + v, r1), tile] += 1
    return writes
