// Requantization of the epilogue's float result to int8 output (OutType::i8): the scalar rule
// every ISA's SIMD store (store_q_n in simd_*.hpp) reproduces lane for lane.
//
//   q = clip(round_half_even(y / out_scale), −127, 127), NaN → 0
//
// Symmetric like ops.quantize (−128 is never produced), so the output feeds the next int8 GEMM
// with scale out_scale. The caller divides (an IEEE float32 division, never a multiply by the
// reciprocal, which rounds differently); this takes the quotient. Clamping before rounding
// gives the same result as rounding first (±127 are integers and rounding is monotonic), and
// it keeps ±Inf and huge values out of the float → int conversion.
#pragma once
#include <cmath>
#include <cstdint>

#include "cpu/gemm/kernel_ns.hpp"

namespace lepton::gemm::LEPTON_KERNEL_NS {

inline constexpr float kRequantMax = 127.0f;

inline std::int8_t requantize_quotient(float q) {
  if (q != q) return 0;  // NaN
  q = q < -kRequantMax ? -kRequantMax : q;
  q = q > kRequantMax ? kRequantMax : q;
  // nearbyint rounds in the current mode: nearest, ties to even (the SIMD stores name that
  // mode explicitly; nothing in Lepton changes the default).
  return static_cast<std::int8_t>(static_cast<int>(std::nearbyint(q)));
}

}  // namespace lepton::gemm::LEPTON_KERNEL_NS
