// Host interface of the CUDA fused preprocessing (plain C++ for the bindings). Pointers are
// device addresses from Python; C++ never allocates device memory. Every launch goes on `stream`
// and is checked. Semantics: lepton.ops.preprocess (the CPU op computes the same numbers).
#pragma once
#include <cstdint>

#include "cuda/preprocess/config.hpp"

namespace lepton::cuda::prep {

enum InDtype : int { kInFloat16 = 0, kInFloat32 = 1, kInFloat64 = 2 };
enum OutDtype : int { kOutFloat32 = 0, kOutFloat64 = 1, kOutFloat16 = 2, kOutInt8 = 3 };

int in_itemsize(int in_dtype);
int out_itemsize(int out_dtype);

// x[r, c] is at x + (r·ld + c) elements (row-major) or x + (c·ld + r) (column-major).
struct Matrix {
  std::uintptr_t ptr;
  int dtype;
  int layout;
  std::int64_t rows, cols, ld;
};

// The config id to run: `config` checked, or the shape heuristic for config < 0.
int resolve_config(int config, std::int64_t rows, std::int64_t cols, int itemsize, int device);

// The vector width the statistics kernel uses on x (1 when x is not 16-byte aligned etc.).
int stats_vector_width(const Matrix& x);
// The plan of the statistics pass; workspace_slots() = plan.chunks · cols partial moments.
Plan stats_plan(const Matrix& x, int config, int device);
std::int64_t stats_workspace_slots(const Matrix& x, int config, int device);

// Pass 1: result (5 × cols float64, row by row: count, mean, m2, min, max of the finite values;
// an empty column has count 0, mean 0, m2 0, min +inf, max -inf). workspace: float64 device
// memory of at least 5 · stats_workspace_slots() elements. Deterministic: the same input and
// config give bit-identical results.
void column_stats(const Matrix& x, std::uintptr_t workspace, std::int64_t workspace_slots,
                  std::uintptr_t result, int config, int device, std::uintptr_t stream);

// Pass 2: out = convert((clip(replace(x), lo, hi) − center) · mul), out in x's layout with its
// own leading dimension. coefs: 5 × cols float64 device array (fill, lo, hi, center, mul).
// replace_inf: ±Inf is replaced like NaN (else it is clipped).
int apply_vector_width(const Matrix& x, const Matrix& out);
Plan apply_plan(const Matrix& x, const Matrix& out, int config, int device);
void apply(const Matrix& x, const Matrix& out, std::uintptr_t coefs, bool replace_inf, int config,
           int device, std::uintptr_t stream);

}  // namespace lepton::cuda::prep
