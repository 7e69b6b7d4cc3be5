// What one int8_gemm_cuda launch needs: raw device pointers handed in from Python (C++ never
// allocates device memory), the problem shape and the run-time epilogue modes.
#pragma once
#include <cstdint>

namespace lepton::cuda::gemm {

// kOutInt8: the epilogue's float result requantized, clip(round_half_even(v / out_scale), ±127).
enum OutDtype : int {
  kOutInt32 = 0,
  kOutFloat32 = 1,
  kOutFloat16 = 2,
  kOutBFloat16 = 3,
  kOutInt8 = 4
};
enum Activation : int { kActNone = 0, kActRelu = 1, kActGelu = 2, kActSigmoid = 3 };

struct GemmArgs {
  const std::int8_t* a;  // (M, K) rows lda bytes apart; 16-byte aligned, lda % 16 == 0
  const std::int8_t* b;  // (N, K) rows ldb bytes apart; same alignment
  long long lda, ldb;
  int m, n, k;      // k % 16 == 0 (the op zero-pads K); k ≤ kGemmMaxK (common/gemm_limits.hpp)
  void* out;        // (M, N) row-major, contiguous, of out_dtype
  int out_dtype;    // OutDtype; kOutInt32 means exact accumulators, no epilogue
  const float* a_scale;  // (M,) or null (= 1)
  const float* b_scale;  // (N,) or null (= 1)
  const float* bias;     // (N,) or null (= 0)
  int activation;        // Activation
  float out_scale;       // kOutInt8 only: the output's quantization step (> 0)
  std::int32_t* workspace;  // split_k > 1: split_k·M·N int32 partials; else unused
  int split_k;
  int k_per_split;  // multiple of kBlockK
};

}  // namespace lepton::cuda::gemm
