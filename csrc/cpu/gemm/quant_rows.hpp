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

// The magnitude bits of x[k] (sign cleared). For finite values they order like the magnitudes,
// and every NaN/Inf is >= the Inf pattern: one integer max finds the absmax and any non-finite
// value at once.
template <class X>
inline typename FloatBits<X>::U magnitude_bits(X v) {
  typename FloatBits<X>::U bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits & FloatBits<X>::kAbs;
}

// scale = absmax / 127 (in X's precision, then rounded to float32), kept at or above FLT_MIN
// (2⁻¹²⁶) so it is never subnormal: a subnormal scale rounds coarsely enough that |x|/scale
// could pass 127.5 and clip. An all-zero row gets scale 1 and q = 0. Returns false for a row
// with NaN/Inf, or (float64 input) a scale beyond float32's range. `top`: the row's largest
// magnitude_bits.
template <class X>
bool scale_from_top(typename FloatBits<X>::U top, float* scale) {
  if (top >= FloatBits<X>::kInf) return false;
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

template <class X>
bool row_scale(const X* x, std::int64_t K, float* scale) {
  typename FloatBits<X>::U top = 0;
  for (std::int64_t k = 0; k < K; ++k) {
    const auto bits = magnitude_bits(x[k]);
    top = bits > top ? bits : top;
  }
  return scale_from_top<X>(top, scale);
}

// y = (x − center)·mul per column, then row_scale of y in the same loop. The arithmetic is the
// fused preprocessing pass's (cpu/preprocess/apply_kernel.hpp, input dtype = output dtype = X):
// a subtraction and a multiplication in X, each rounded (no FMA: (x − c)·m has no a·b + c form,
// and the TUs build with -ffp-contract=off anyway), so y is bit for bit what that pass writes,
// on every ISA. (Its NaN may carry another payload; row_scale only asks whether it is NaN.)
template <class X>
bool affine_row_scale(const X* x, const X* center, const X* mul, std::int64_t K, X* y,
                      float* scale) {
  typename FloatBits<X>::U top = 0;
  for (std::int64_t k = 0; k < K; ++k) {
    const X v = (x[k] - center[k]) * mul[k];
    y[k] = v;
    const auto bits = magnitude_bits(v);
    top = bits > top ? bits : top;
  }
  return scale_from_top<X>(top, scale);
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
