// Fused preprocessing on the CPU: pass 1 (column_moments) and pass 2 (apply_columns).
// Both take a dense 2-D array in row-major (C) or column-major (Fortran) order, split it into
// work items run by OpenMP, and call the ISA kernels of kernels.hpp.
#pragma once
#include "common/threads.hpp"
#include <cstdint>
#include <vector>

#include "cpu/preprocess/config.hpp"
#include "cpu/preprocess/kernels.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace lepton::prep {

enum class Layout : int { row_major = 0, column_major = 1 };

// Per-column moments of the finite values. A column without finite values has count 0, mean 0,
// m2 0, min +inf and max -inf (the identities of the merge); the Python layer reports them.
struct ColumnMoments {
  std::vector<double> count, mean, m2, min, max;
};

template <class T>
ColumnMoments column_moments(const T* x, std::int64_t rows, std::int64_t cols, Layout layout,
                             const PrepConfig& cfg = default_config());

// Per-column coefficients of the apply pass, float64, each of length cols (see ApplyTile).
struct ColumnCoefs {
  const double* fill;
  const double* lo;
  const double* hi;
  const double* center;
  const double* mul;
  bool replace_inf;
};

// automatic: by the config's stream_min_mib; off/on override it (tests of both store paths).
enum class StreamMode : int { off = 0, on = 1, automatic = 2 };

// out has the same shape and layout as x and element type `kind`.
template <class T>
void apply_columns(const T* x, void* out, OutKind kind, std::int64_t rows, std::int64_t cols,
                   Layout layout, const ColumnCoefs& coefs, StreamMode stream,
                   const PrepConfig& cfg = default_config());


}  // namespace lepton::prep
