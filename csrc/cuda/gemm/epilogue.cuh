// The fused epilogue, shared by the GEMM kernel (split_k == 1) and the split-K reduce kernel:
// int32 accumulator → exact int32 store, or float acc·a_scale[m]·b_scale[n] + bias[n] →
// activation → float32 / float16 / bfloat16 / requantized int8 store. Modes are run-time
// (uniform branches), so one kernel instantiation serves every epilogue.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "cuda/gemm/args.hpp"

namespace lepton::cuda::gemm {

__device__ __forceinline__ float activate(float v, int activation) {
  switch (activation) {
    case kActRelu: return v < 0.0f ? 0.0f : v;  // NaN stays NaN (fmaxf would make it 0)
    case kActGelu: return 0.5f * v * erfcf(-v * 0.70710678118654752f);  // erf form, as torch
    case kActSigmoid: return 1.0f / (1.0f + expf(-v));
    default: return v;
  }
}

// acc·a_scale·b_scale + bias, then the activation: one rounding order for every kernel (the
// mma.sync tiles, the split-K reduce and the wgmma EVT node), so configs agree bit for bit.
__device__ __forceinline__ float scale_bias_activate(float acc, float a_scale, float b_scale,
                                                     float bias, int activation) {
  return activate(__fmaf_rn(__fmul_rn(acc, a_scale), b_scale, bias),
                  activation);
}

__device__ __forceinline__ float epilogue_value(const GemmArgs& p, int row, int col, int acc) {
  return scale_bias_activate(static_cast<float>(acc), p.a_scale != nullptr ? p.a_scale[row] : 1.0f,
                             p.b_scale != nullptr ? p.b_scale[col] : 1.0f,
                             p.bias != nullptr ? p.bias[col] : 0.0f, p.activation);
}

// The int8 output: v / out_scale rounded half to even and clipped to ±127 (the symmetric range
// ops.quantize uses, so the result feeds the next int8 GEMM); NaN → 0.
__device__ __forceinline__ signed char requantize(float v, float out_scale) {
  const float q = rintf(__fdiv_rn(v, out_scale));
  if (q != q) return 0;
  return static_cast<signed char>(fminf(fmaxf(q, -127.0f), 127.0f));
}

// Writes out[row, col] (caller checked row < M, col < N).
__device__ __forceinline__ void store_one(const GemmArgs& p, int row, int col, int acc) {
  const long long i = static_cast<long long>(row) * p.n + col;
  if (p.out_dtype == kOutInt32) {
    static_cast<int*>(p.out)[i] = acc;
    return;
  }
  const float v = epilogue_value(p, row, col, acc);
  switch (p.out_dtype) {
    case kOutFloat16: static_cast<__half*>(p.out)[i] = __float2half_rn(v); break;
    case kOutBFloat16: static_cast<__nv_bfloat16*>(p.out)[i] = __float2bfloat16_rn(v); break;
    case kOutInt8: static_cast<signed char*>(p.out)[i] = requantize(v, p.out_scale); break;
    default: static_cast<float*>(p.out)[i] = v; break;
  }
}

// Writes out[row, col] and out[row, col + 1] where in range (caller checked row < M).
// With N even and col even, the pair is one aligned vector store.
__device__ __forceinline__ void store_pair(const GemmArgs& p, int row, int col, int acc0,
                                           int acc1) {
  if (col + 1 < p.n && (p.n & 1) == 0) {
    const long long i = static_cast<long long>(row) * p.n + col;  // even: aligned pair
    if (p.out_dtype == kOutInt32) {
      reinterpret_cast<int2*>(static_cast<int*>(p.out) + i)[0] = make_int2(acc0, acc1);
      return;
    }
    const float v0 = epilogue_value(p, row, col, acc0);
    const float v1 = epilogue_value(p, row, col + 1, acc1);
    switch (p.out_dtype) {
      case kOutFloat16:
        reinterpret_cast<__half2*>(static_cast<__half*>(p.out) + i)[0] =
            __floats2half2_rn(v0, v1);
        break;
      case kOutBFloat16:
        reinterpret_cast<__nv_bfloat162*>(static_cast<__nv_bfloat16*>(p.out) + i)[0] =
            __floats2bfloat162_rn(v0, v1);
        break;
      case kOutInt8:
        reinterpret_cast<char2*>(static_cast<signed char*>(p.out) + i)[0] =
            make_char2(requantize(v0, p.out_scale), requantize(v1, p.out_scale));
        break;
      default:
        reinterpret_cast<float2*>(static_cast<float*>(p.out) + i)[0] = make_float2(v0, v1);
        break;
    }
    return;
  }
  if (col < p.n) store_one(p, row, col, acc0);
  if (col + 1 < p.n) store_one(p, row, col + 1, acc1);
}

}  // namespace lepton::cuda::gemm
