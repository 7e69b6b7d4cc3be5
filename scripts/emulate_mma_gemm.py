"""A numpy model of csrc/cuda/gemm/mma/mma_kernel.cuh's index arithmetic, runnable without a GPU.

It copies the kernel's cp.async chunk indexing, the 16-byte fragment loads with the permuted k
order, the m16n8k32 register layout of the PTX ISA (A: a0 row g k 4t.., a1 row g+8, a2 row g
k 16+4t.., a3 row g+8; B: b0 k 4t.. col g, b1 k 16+4t..; C: c0,c1 row g cols 2t,2t+1; c2,c3
row g+8), split-K ranges and the epilogue placement, and checks a @ b.T on shapes with tails.
It checks the layout reasoning, not the hardware: keep it in step with the kernel when either
changes. Run: python scripts/emulate_mma_gemm.py
"""

import numpy as np

BK = 64


def mma(c, A_regs, B_regs, g_t):  # per-warp m16n8k32 using per-lane regs (bytes), PTX layout
    # build logical A (16x32), B (32x8) from lanes
    A = np.zeros((16, 32), np.int64)
    B = np.zeros((32, 8), np.int64)
    for lane in range(32):
        g, t = lane // 4, lane % 4
        a = A_regs[lane]
        b = B_regs[lane]
        A[g, t * 4 : t * 4 + 4] = a[0]
        A[g + 8, t * 4 : t * 4 + 4] = a[1]
        A[g, 16 + t * 4 : 16 + t * 4 + 4] = a[2]
        A[g + 8, 16 + t * 4 : 16 + t * 4 + 4] = a[3]
        B[t * 4 : t * 4 + 4, g] = b[0]
        B[16 + t * 4 : 16 + t * 4 + 4, g] = b[1]
    D = A @ B
    for lane in range(32):
        g, t = lane // 4, lane % 4
        c[lane] += np.array([D[g, 2 * t], D[g, 2 * t + 1], D[g + 8, 2 * t], D[g + 8, 2 * t + 1]])


def run(a, b, BM, BN, WM_, WN_, split):
    M, K = a.shape
    N = b.shape[0]
    Kp = -(-K // 16) * 16
    ap = np.zeros((M, Kp), np.int8)
    ap[:, :K] = a
    bp = np.zeros((N, Kp), np.int8)
    bp[:, :K] = b
    kb = -(-Kp // BK)
    kps = -(-kb // split) * BK
    WM, WN = BM // WM_, BN // WN_
    MI, NI = WM // 16, WN // 8
    out = np.full((M, N), -999999, np.int64)
    ws = np.zeros((split, M, N), np.int64)
    tm, tn = -(-M // BM), -(-N // BN)
    for w in range(tm * tn * split):
        s = w % split
        tile = w // split
        m0 = (tile // tn) * BM
        n0 = (tile % tn) * BN
        kbeg = s * kps
        kend = min(Kp, kbeg + kps)
        kt_n = (kend - kbeg + BK - 1) // BK if kend > kbeg else 0
        acc = {}
        for kt in range(kt_n):
            k0 = kbeg + kt * BK
            sA = np.zeros((BM, BK), np.int64)
            sB = np.zeros((BN, BK), np.int64)
            for c in range(BM * BK // 16):
                r, kc = c // (BK // 16), (c % (BK // 16)) * 16
                if m0 + r < M and k0 + kc < kend:
                    sA[r, kc : kc + 16] = ap[m0 + r, k0 + kc : k0 + kc + 16]
            for c in range(BN * BK // 16):
                r, kc = c // (BK // 16), (c % (BK // 16)) * 16
                if n0 + r < N and k0 + kc < kend:
                    sB[r, kc : kc + 16] = bp[n0 + r, k0 + kc : k0 + kc + 16]
            for warp in range(WM_ * WN_):
                wm, wn = warp % WM_, warp // WM_
                for mi in range(MI):
                    for ni in range(NI):
                        c = acc.setdefault((warp, mi, ni), np.zeros((32, 4), np.int64))
                        for step in range(2):
                            Ar = []
                            Br = []
                            for lane in range(32):
                                g, t = lane // 4, lane % 4
                                r = wm * WM + mi * 16 + g
                                col = wn * WN + ni * 8 + g
                                lo = sA[r, t * 16 : t * 16 + 16]
                                hi = sA[r + 8, t * 16 : t * 16 + 16]
                                bb = sB[col, t * 16 : t * 16 + 16]
                                o = step * 8
                                Ar.append(
                                    [
                                        lo[o : o + 4],
                                        hi[o : o + 4],
                                        lo[o + 4 : o + 8],
                                        hi[o + 4 : o + 8],
                                    ]
                                )
                                Br.append([bb[o : o + 4], bb[o + 4 : o + 8]])
                            mma(c, Ar, Br, None)
        for warp in range(WM_ * WN_):
            wm, wn = warp % WM_, warp // WM_
            for mi in range(MI):
                for half in range(2):
                    for ni in range(NI):
                        c = acc.get((warp, mi, ni), np.zeros((32, 4), np.int64))
                        for lane in range(32):
                            g, t = lane // 4, lane % 4
                            row = m0 + wm * WM + mi * 16 + g + half * 8
                            if row >= M:
                                continue
                            col = n0 + wn * WN + ni * 8 + 2 * t
                            for j in range(2):
                                if col + j < N:
                                    if split == 1:
                                        out[row, col + j] = c[lane, 2 * half + j]
                                    else:
                                        ws[s, row, col + j] = c[lane, 2 * half + j]
    if split > 1:
        out = ws.sum(0)
    return out


rng = np.random.default_rng(0)
for M, N, K, BM, BN, wm, wn, split in [
    (33, 20, 72, 64, 64, 2, 2, 1),
    (70, 41, 200, 64, 64, 2, 2, 2),
    (17, 9, 136, 64, 128, 2, 2, 4),
    (5, 70, 40, 128, 64, 2, 2, 1),
]:
    a = rng.integers(-128, 128, (M, K), dtype=np.int8)
    b = rng.integers(-128, 128, (N, K), dtype=np.int8)
    got = run(a, b, BM, BN, wm, wn, split)
    want = a.astype(np.int64) @ b.astype(np.int64).T
    print(M, N, K, BM, BN, split, (got == want).all())
