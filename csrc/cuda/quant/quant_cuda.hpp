// Host interface of the CUDA quantize/dequantize kernels (plain C++ for the bindings).
#pragma once
#include <cstdint>

namespace lepton::cuda::quant {

enum InDtype : int { kInFloat16 = 0, kInFloat32 = 1, kInFloat64 = 2 };

// Per row of x (rows × cols, rows ld_x elements apart): scale = absmax / 127 (in x's
// precision; float16 widened to float32 first), all-zero row → 1, at least FLT_MIN; q =
// clip(round_half_even(x / scale), ±127) into q (rows ld_q bytes apart, ld_q ≥ cols; bytes
// [cols, ld_q) are written as 0 so q can feed the GEMM's K padding directly). A row with NaN/Inf
// (or a float64 scale past float32's range) gets scale NaN and q = 0, and sets *bad_row_flag
// to 1 when bad_row_flag is not 0.
void quantize_rows(std::uintptr_t x, int in_dtype, long long ld_x, int rows, int cols,
                   std::uintptr_t q, long long ld_q, std::uintptr_t scale,
                   std::uintptr_t bad_row_flag, int device, std::uintptr_t stream);

// out[r, c] = float(q[r, c]) · scale[r] for contiguous (rows, cols) q and out (float32).
void dequantize_rows(std::uintptr_t q, int rows, int cols, std::uintptr_t scale,
                     std::uintptr_t out, int device, std::uintptr_t stream);

}  // namespace lepton::cuda::quant
