// Single-threaded inner loops of the fused preprocessing, one table per ISA.
//
// The threaded drivers (column_stats.cpp, apply.cpp) cut the data into work items and call these
// through kernel_table(active_isa()). The same source (kernels_impl.hpp) is compiled once per ISA
// with that ISA's flags; only the vector width differs.
#pragma once
#include <cstdint>

#include "common/isa.hpp"

namespace lepton::prep {

// Per-lane running moments, float64, structure of arrays (each of length `lanes`).
// count is float64 too: exact up to 2^53, and it keeps every accumulator one vector type.
struct LaneMoments {
  double* count;  // finite values seen
  double* mean;
  double* m2;     // sum of squared deviations from mean
  double* min;    // +inf while count == 0
  double* max;    // -inf while count == 0
};

// Coefficients of the apply pass for `period` consecutive lanes, each array tiled so that a vector
// load starting at any lane < period reads valid entries: length period + kMaxVectorLanes.
// Element type is the compute type of the kernel (float or double).
struct ApplyTile {
  const void* fill;    // value written for a replaced entry (NaN when not imputing)
  const void* lo;      // clip bounds (-inf / +inf when not clipping)
  const void* hi;
  const void* center;  // out = (v - center) * mul
  const void* mul;
  std::int64_t period;  // >= the kernel's vector lanes; lane index wraps at period
  bool replace_inf;     // true: NaN and ±Inf are replaced by fill; false: NaN only
  bool stream;          // non-temporal stores for outputs far larger than the caches
};
constexpr int kMaxVectorLanes = 16;  // floats in a 512-bit register

enum class OutKind : int { f32 = 0, f64 = 1, f16 = 2, i8 = 3 };
constexpr int kOutKinds = 4;

// out[i] = convert((clip(replace(x[i])) - center[lane]) * mul[lane]) for i in [0, count), where
// lane starts at lane0 and advances by one per element, wrapping at tile.period.
template <class T>
using ApplyFn = void (*)(const T* x, void* out, std::int64_t count, std::int64_t lane0,
                         const ApplyTile& tile);

// Adds rows [0, rows) of the row-major view x (rows × lanes, row stride ld elements) into acc.
template <class T>
using AccumulateFn = void (*)(const T* x, std::int64_t rows, std::int64_t lanes, std::int64_t ld,
                              const LaneMoments& acc);

struct KernelTable {
  const char* isa;
  int vector_bytes;
  AccumulateFn<float> accumulate_f32;
  AccumulateFn<double> accumulate_f64;
  ApplyFn<float> apply_f32[kOutKinds];   // indexed by OutKind
  ApplyFn<double> apply_f64[kOutKinds];
};

const KernelTable& kernel_table(Isa isa);

// Per-ISA tables, defined in kernels_<isa>.cpp (absent ones fall back to a lower ISA).
const KernelTable& kernels_baseline();
#if defined(LEPTON_X86)
const KernelTable& kernels_avx2();
const KernelTable& kernels_avx512();
#endif

}  // namespace lepton::prep
