// Host interface of the CUDA centred-Gram kernels (plain C++ for the bindings).
//
// centred_gram computes GramStats semantics on the device: mean (d,) float64 and
// G = Σ_i (x_i − mean)(x_i − mean)ᵀ (d × d, float64, both triangles) of a float32/float64
// matrix x (n × d) in four launches on the caller's stream, all deterministic (no float atomics):
//   1. column sums of each row chunk in float64 into the workspace;
//   2. mean = Σ chunks / n, shift = mean rounded to x's dtype;
//   3. per (upper-triangle 64×64 tile, row chunk) CTA: Σ (x − shift)ᵢ(x − shift)ⱼ with the
//      centring done in registers as tiles are loaded, products summed in x's precision (SIMT:
//      ≤ 128 rows; tensor cores, 3×TF32: ≤ 64 rows), then into float64; each CTA writes its
//      float64 tile to the workspace;
//   4. G = Σ chunks (fixed order) − n·δδᵀ (δ = mean − shift, the rounding of the shift), mirrored.
// C++ allocates nothing: the caller passes the workspace (gram_workspace_elems doubles) and a
// zeroed int flag, set to 1 if x holds NaN or Inf.
#pragma once
#include <cstdint>

namespace lepton::cuda::pca {

enum GramDtype : int { kGramFloat32 = 0, kGramFloat64 = 1 };

// Who multiplies the centred tiles (step 3): FP32/FP64 FMA on the SIMT cores, or the tensor
// cores with each float32 operand split in two TF32 values (3 MMAs per product; float32 input,
// sm_80+). Everything else (plan, workspace, the other three launches) is shared.
enum GramEngine : int { kGramSimt = 0, kGramTf32x3 = 1 };

// ValueError for an unknown engine or one that does not take this dtype (no device used).
void check_engine(int engine, int dtype);

// How the rows are split across CTAs for a shape on a device with `sm_count` SMs (pure
// function: the sizing call and the run call agree).
struct GramPlan {
  long long tiles;        // upper-triangle 64×64 tiles of G: nb·(nb+1)/2
  long long chunks;       // row chunks of the Gram kernel (split-K over n)
  long long chunk_rows;   // rows per Gram chunk (a multiple of the stage depth)
  long long sum_chunks;   // row chunks of the column-sum kernel
  long long sum_rows;     // rows per column-sum chunk
  long long workspace;    // float64 elements of workspace needed
};
GramPlan gram_plan(long long n, long long d, int sm_count);

// Workspace (float64 elements) centred_gram needs for this shape on `device`.
long long gram_workspace_elems(long long n, long long d, int device);

// x: element (r, c) at x + r·row_stride + c·col_stride (elements); either col_stride == 1
// (row-major, rows may be padded) or row_stride == 1 (column-major). mean: (d,) float64;
// gram: (d, d) float64 C-order; workspace: ≥ gram_workspace_elems doubles; flag: one int.
void centred_gram(std::uintptr_t x, int dtype, long long n, long long d, long long row_stride,
                  long long col_stride, std::uintptr_t mean, std::uintptr_t gram,
                  std::uintptr_t workspace, long long workspace_elems, std::uintptr_t flag,
                  int device, std::uintptr_t stream, int engine);

}  // namespace lepton::cuda::pca
