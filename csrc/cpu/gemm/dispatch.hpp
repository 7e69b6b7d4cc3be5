// The CPU int8 GEMM entry points the bindings call: pick the kernel family for the active ISA,
// resolve the configuration, plan, find workspace and run. Arguments arrive validated by the
// Python layer; the checks here only guard the invariants the kernels rely on.
#pragma once
#include <cstdint>
#include <memory>

#include "cpu/gemm/kernel_api.hpp"
#include "cpu/gemm/packing.hpp"

namespace lepton::gemm {

struct EpilogueArgs {
  const float* a_scale = nullptr;  // (M) or null
  const float* b_scale = nullptr;  // (N) or null
  const float* bias = nullptr;     // (N) or null
  Activation act = Activation::none;
  OutType out = OutType::i32;
  float out_scale = 1.0f;  // OutType::i8: the output's quantization step (positive, finite)
};

// config_id < 0: the built-in heuristic. out: (M, N) of the OutType, row-major.
void int8_gemm(const std::int8_t* a, const std::int8_t* b, std::int64_t M, std::int64_t N,
               std::int64_t K, const EpilogueArgs& epi, void* out, int config_id);

// x: (M, K) float32 or float64 rows, quantized per row on the fly (scales to x_scale, (M));
// out = act((q_x · w_qᵀ)·x_scale·w_scale + bias), (M, N) of `out_type` (float32, float16, or
// int8 requantized with out_scale). col_center, col_mul: null, or (K) each in x's dtype: the
// rows quantized are then (x − col_center)·col_mul (GemmCall has the rule). Raises
// std::invalid_argument naming the row when x (or the mapped row) has NaN/Inf.
void linear_int8(const void* x, ASource kind, std::int64_t M, const PackedWeights& w,
                 Activation act, OutType out_type, float out_scale, void* out, float* x_scale,
                 int config_id, const void* col_center = nullptr, const void* col_mul = nullptr);

// Per-row quantization into (rows, K) int8 + (rows) float32 scales.
void quantize_rows(const void* x, ASource kind, std::int64_t rows, std::int64_t K,
                   std::int8_t* q, float* scale);

// Pack weights for the active ISA's kernel family.
std::shared_ptr<const PackedWeights> pack_weights(const std::int8_t* w, std::int64_t N,
                                                  std::int64_t K, const float* w_scale,
                                                  const float* bias);

// The weights in the layout of the active ISA: `w` itself, or a repacked copy.
std::shared_ptr<const PackedWeights> for_active_isa(const std::shared_ptr<const PackedWeights>& w);

}  // namespace lepton::gemm
