// Symmetric per-row int8 quantization of float32/float64 rows, written as plain loops that the
// compiler vectorizes with the including TU's ISA flags. Both ops.quantize and linear_int8's
// fused A packing use these two functions, so their int8 values agree exactly.
#pragma once
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "cpu/gemm/kernel_ns.hpp"

namespace lepton::gemm::LEPTON_KERNEL_NS {

template <class X>
struct FloatBits;
template <>
struct FloatBits<float> {
  using U = std::uint32_t;
  static constexpr U kAbs = 0x7fffffffu, kInf = 0x7f800000u;
};
template <>
struct FloatBits<double> {
  using U = std::uint64_t;
  static constexpr U kAbs = 0x7fffffffffffffffull, kInf = 0x7ff0000000000000ull;
};

// scale = absmax / 127 (in X's precision, then rounded to float32), kept at or above FLT_MIN
// (2⁻¹²⁶) so it is never subnormal: a subnormal scale rounds coarsely enough that |x|/scale
// could pass 127.5 and clip. An all-zero row gets scale 1 and q = 0. Returns false for a row
// with NaN/Inf, or (float64 input) a scale beyond float32's range.
template <class X>
bool row_scale(const X* x, std::int64_t K, float* scale) {
  using B = FloatBits<X>;
  // For finite values the magnitude bits order like the magnitudes, and every NaN/Inf is
  // ≥ the Inf pattern: one integer max finds the absmax and any non-finite value at once.
  typename B::U top = 0;
  for (std::int64_t k = 0; k < K; ++k) {
    typename B::U bits;
    std::memcpy(&bits, x + k, sizeof bits);
    bits &= B::kAbs;
    top = bits > top ? bits : top;
  }
  if (top >= B::kInf) return false;
  if (top == 0) {
    *scale = 1.0f;
    return true;
  }
  X absmax;
  std::memcpy(&absmax, &top, sizeof absmax);
  const float s = static_cast<float>(absmax / X(127));
  if (!(s <= FLT_MAX)) return false;
  *scale = s < FLT_MIN ? FLT_MIN : s;
  return true;
}

// q = clip(round_half_even(x / scale), −127, 127), the division in X's precision.
template <class X>
void quantize_with_scale(const X* x, std::int64_t K, float scale, std::int8_t* q) {
  const X s = static_cast<X>(scale);
  for (std::int64_t k = 0; k < K; ++k) {
    X v = std::nearbyint(x[k] / s);  // the default rounding mode: nearest, ties to even
    v = v < X(-127) ? X(-127) : v;
    v = v > X(127) ? X(127) : v;
    q[k] = static_cast<std::int8_t>(static_cast<int>(v));
  }
}

template <class X>
bool quantize_row(const X* x, std::int64_t K, std::int8_t* q, float* scale) {
  if (!row_scale(x, K, scale)) return false;
  quantize_with_scale(x, K, *scale, q);
  return true;
}

}  // namespace lepton::gemm::LEPTON_KERNEL_NS
