// INT8 tensor-core GEMM with mma.sync.m16n8k32 (sm_80+; runs on sm_90 too), templated on the
// tile shape. Included only by the generated tile TUs (mma_instance.cu.in), one instantiation each.
//
// Layout. a (M, K) and b (N, K) are both K-major, which is exactly the instruction's row.col
// form. Each pipeline stage holds a BM×64 slice of a and a BN×64 slice of b in shared memory,
// rows 64 bytes apart, filled by 16-byte cp.async (out-of-range chunks zero-filled with
// src-size 0: that handles every M, N and K tail).
//
// Fragments from 16-byte shared loads. A dot product does not care about the order of k, only
// that a and b agree on it. So lane (g = lane/4, t = lane%4) loads bytes [16t, 16t+16) of its
// rows with one ld.shared.v4 and uses words {0,1} for the first m16n8k32 step and {2,3} for
// the second: the instruction's "k = 4t..4t+3" is physical byte 16t+0..3 and "k = 16+4t.."
// is 16t+4..7 (then 16t+8.. and 16t+12.. for step two), identically for a and b. With rows 64
// bytes apart, each quarter-warp's eight 16-byte loads (rows g, g+1 × t = 0..3) cover all 32
// banks: conflict-free without padding.
//
// Work items are (tile_m, tile_n, k-split) triples, walked with a grid stride so that a capped
// (persistent) grid covers them all. split_k == 1 applies the fused epilogue from registers
// (one global write); split_k > 1 writes raw int32 partials for the reduce kernel.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/check.cuh"
#include "cuda/gemm/args.hpp"
#include "cuda/gemm/config.hpp"
#include "cuda/gemm/epilogue.cuh"

namespace lepton::cuda::gemm {

template <int BM_, int BN_, int WARPS_M_, int WARPS_N_, int STAGES_>
struct TileShape {
  static constexpr int BM = BM_, BN = BN_, BK = kBlockK;
  static constexpr int WARPS_M = WARPS_M_, WARPS_N = WARPS_N_, STAGES = STAGES_;
  static constexpr int kThreads = WARPS_M * WARPS_N * 32;
  static constexpr int WM = BM / WARPS_M, WN = BN / WARPS_N;  // one warp's tile
  static constexpr int MI = WM / 16, NI = WN / 8;             // mma tiles per warp
  static constexpr int kStageA = BM * BK, kStageB = BN * BK;  // bytes per stage
  static constexpr int kSmemBytes = STAGES * (kStageA + kStageB);
  static_assert(WM % 16 == 0 && WN % 8 == 0, "warp tile must be whole m16n8 tiles");
  static_assert((BM * BK / 16) % kThreads == 0 && (BN * BK / 16) % kThreads == 0,
                "every thread copies the same number of 16-byte chunks");
  static_assert(STAGES >= 2, "a pipeline needs two stages");
};

// The shape of tile `T`, read from config.hpp's kTiles (the LEPTON_MMA_TILE rows of kernels.def).
template <Tile T>
struct TileShapeFor {
  static constexpr TileInfo kInfo = kTiles[static_cast<int>(T)];
  using type = TileShape<kInfo.bm, kInfo.bn, kInfo.warps_m, kInfo.warps_n, kInfo.stages>;
};
template <Tile T>
using TileShapeOf = typename TileShapeFor<T>::type;

__device__ __forceinline__ void cp_async16(void* smem_dst, const void* gmem_src, bool valid) {
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem_dst));
  const int src_bytes = valid ? 16 : 0;  // 0: nothing is read, the 16 bytes are zero-filled
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(gmem_src),
               "r"(src_bytes)
               : "memory");
}
__device__ __forceinline__ void cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

__device__ __forceinline__ void mma_s8(int (&c)[4], unsigned a0, unsigned a1, unsigned a2,
                                       unsigned a3, unsigned b0, unsigned b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};\n"
      : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

// Copies rows [row0, row0 + ROWS) × bytes [k0, k0 + 64) of a K-major operand into one stage.
template <class S, int ROWS>
__device__ __forceinline__ void load_slice(std::int8_t* stage, const std::int8_t* src,
                                           long long ld, int rows_total, int row0, int k0,
                                           int k_end) {
  constexpr int kChunks = ROWS * S::BK / 16;
#pragma unroll
  for (int i = 0; i < kChunks / S::kThreads; ++i) {
    const int c = static_cast<int>(threadIdx.x) + i * S::kThreads;
    const int r = c / (S::BK / 16), kc = (c % (S::BK / 16)) * 16;
    const int gr = row0 + r, gk = k0 + kc;
    const bool valid = gr < rows_total && gk < k_end;  // k_end % 16 == 0: whole chunks only
    const std::int8_t* g = valid ? src + static_cast<long long>(gr) * ld + gk : src;
    cp_async16(stage + r * S::BK + kc, g, valid);
  }
}

template <class S>
__global__ void __launch_bounds__(S::kThreads) mma_gemm_kernel(GemmArgs p, int tiles_m,
                                                                int tiles_n) {
  extern __shared__ __align__(16) std::int8_t smem[];
  std::int8_t* smem_a = smem;
  std::int8_t* smem_b = smem + S::STAGES * S::kStageA;

  const int lane = static_cast<int>(threadIdx.x) % 32, warp = static_cast<int>(threadIdx.x) / 32;
  const int g = lane / 4, t = lane % 4;
  const int warp_m = warp % S::WARPS_M, warp_n = warp / S::WARPS_M;
  const int work_items = tiles_m * tiles_n * p.split_k;

  for (int w = static_cast<int>(blockIdx.x); w < work_items; w += static_cast<int>(gridDim.x)) {
    const int split = w % p.split_k, tile = w / p.split_k;
    const int m0 = (tile / tiles_n) * S::BM, n0 = (tile % tiles_n) * S::BN;
    const int k_begin = split * p.k_per_split;
    const int k_end = min(p.k, k_begin + p.k_per_split);
    const int k_tiles = k_end > k_begin ? (k_end - k_begin + S::BK - 1) / S::BK : 0;

    int acc[S::MI][S::NI][4];
#pragma unroll
    for (int mi = 0; mi < S::MI; ++mi)
#pragma unroll
      for (int ni = 0; ni < S::NI; ++ni)
#pragma unroll
        for (int e = 0; e < 4; ++e) acc[mi][ni][e] = 0;

    auto load_stage = [&](int kt) {
      const int slot = kt % S::STAGES, k0 = k_begin + kt * S::BK;
      if (kt < k_tiles) {
        load_slice<S, S::BM>(smem_a + slot * S::kStageA, p.a, p.lda, p.m, m0, k0, k_end);
        load_slice<S, S::BN>(smem_b + slot * S::kStageB, p.b, p.ldb, p.n, n0, k0, k_end);
      }
      cp_async_commit();  // always, so that group counting stays uniform
    };

#pragma unroll
    for (int s = 0; s < S::STAGES - 1; ++s) load_stage(s);

    for (int kt = 0; kt < k_tiles; ++kt) {
      cp_async_wait<S::STAGES - 2>();  // stage kt has landed (for this thread's copies)
      __syncthreads();  // ... for every thread's; and everyone is done reading stage kt-1
      load_stage(kt + S::STAGES - 1);  // refills the slot of kt-1

      const std::int8_t* sa = smem_a + (kt % S::STAGES) * S::kStageA;
      const std::int8_t* sb = smem_b + (kt % S::STAGES) * S::kStageB;
      uint4 a_frag[S::MI][2];  // rows g and g+8 of each m16 tile: 16 bytes of k each
#pragma unroll
      for (int mi = 0; mi < S::MI; ++mi) {
        const int r = warp_m * S::WM + mi * 16 + g;
        a_frag[mi][0] = *reinterpret_cast<const uint4*>(sa + r * S::BK + t * 16);
        a_frag[mi][1] = *reinterpret_cast<const uint4*>(sa + (r + 8) * S::BK + t * 16);
      }
#pragma unroll
      for (int ni = 0; ni < S::NI; ++ni) {
        const int c = warp_n * S::WN + ni * 8 + g;
        const uint4 b_frag = *reinterpret_cast<const uint4*>(sb + c * S::BK + t * 16);
#pragma unroll
        for (int mi = 0; mi < S::MI; ++mi) {
          const uint4 lo = a_frag[mi][0], hi = a_frag[mi][1];
          mma_s8(acc[mi][ni], lo.x, hi.x, lo.y, hi.y, b_frag.x, b_frag.y);
          mma_s8(acc[mi][ni], lo.z, hi.z, lo.w, hi.w, b_frag.z, b_frag.w);
        }
      }
    }
    cp_async_wait<0>();  // drain (empty) groups and finish all reads of shared memory
    __syncthreads();     // before the next work item's prologue overwrites it

    // Accumulator layout of m16n8: c0,c1 at row g, cols 2t, 2t+1; c2,c3 at row g+8.
#pragma unroll
    for (int mi = 0; mi < S::MI; ++mi)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int row = m0 + warp_m * S::WM + mi * 16 + g + half * 8;
        if (row >= p.m) continue;
#pragma unroll
        for (int ni = 0; ni < S::NI; ++ni) {
          const int col = n0 + warp_n * S::WN + ni * 8 + 2 * t;
          const int v0 = acc[mi][ni][2 * half], v1 = acc[mi][ni][2 * half + 1];
          if (p.split_k == 1) {
            store_pair(p, row, col, v0, v1);
          } else {
            std::int32_t* part = p.workspace + static_cast<long long>(split) * p.m * p.n +
                                 static_cast<long long>(row) * p.n;
            if (col < p.n) part[col] = v0;
            if (col + 1 < p.n) part[col + 1] = v1;
          }
        }
      }
  }
}

// Host side: sets the kernel's shared-memory limit and launches it (checked) on `stream`.
template <class S>
void launch_tile(const GemmArgs& p, int grid, cudaStream_t stream, const char* name) {
  LEPTON_CUDA_CHECK(cudaFuncSetAttribute(mma_gemm_kernel<S>,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         S::kSmemBytes));
  const int tiles_m = (p.m + S::BM - 1) / S::BM, tiles_n = (p.n + S::BN - 1) / S::BN;
  mma_gemm_kernel<S><<<grid, S::kThreads, S::kSmemBytes, stream>>>(p, tiles_m, tiles_n);
  ::lepton::cuda::check(cudaGetLastError(), name);
}

}  // namespace lepton::cuda::gemm
