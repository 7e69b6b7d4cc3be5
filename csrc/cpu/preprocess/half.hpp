// float -> IEEE binary16 bits, round to nearest even (what numpy's astype(float16) and the F16C
// instruction with imm 0 do). Used for scalar tails and on CPUs without F16C.
#pragma once
#include <cstdint>
#include <cstring>

namespace lepton::prep {

inline std::uint16_t float_to_half_bits(float value) {
  std::uint32_t f;
  std::memcpy(&f, &value, sizeof f);
  const std::uint32_t sign = (f >> 16) & 0x8000u;
  f &= 0x7fffffffu;
  if (f >= 0x7f800000u) return static_cast<std::uint16_t>(sign | (f > 0x7f800000u ? 0x7e00u : 0x7c00u));
  // 65520 = largest half (65504) + half an ulp: it and everything above round to infinity.
  if (f >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);
  if (f < 0x38800000u) {
    // Below the smallest normal half (2^-14): adding 0.5 moves the value's bits so the float
    // adder performs the round-to-nearest-even at the half subnormal's precision (2^-24).
    float shifted;
    std::memcpy(&shifted, &f, sizeof shifted);
    shifted += 0.5f;
    std::uint32_t bits;
    std::memcpy(&bits, &shifted, sizeof bits);
    return static_cast<std::uint16_t>(sign | (bits - 0x3f000000u));
  }
  // Normal: rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits to even.
  const std::uint32_t odd = (f >> 13) & 1u;
  f += 0xc8000fffu + odd;  // (15 - 127) << 23, plus the rounding constant 0xfff
  return static_cast<std::uint16_t>(sign | (f >> 13));
}

}  // namespace lepton::prep
