// What the ISA-independent code (dispatch, packing, bindings) and the per-ISA kernels share:
// plain structs and one table of function pointers per ISA. Nothing here is ISA-specific, so it
// may be included anywhere.
#pragma once
#include <cstdint>

#include "common/isa.hpp"

namespace lepton::gemm {

struct GemmConfig;

enum class Activation : int { none = 0, relu = 1, gelu = 2, sigmoid = 3 };
// i8: the float result requantized with Epilogue::out_scale (requant.hpp has the rule).
enum class OutType : int { i32 = 0, f32 = 1, f16 = 2, i8 = 3 };

// How one kernel family lays operands out. B (N, K) is packed once into panels of `nr` columns;
// each panel holds K rounded up to `kgroup`, as [k_group][nr][kgroup] bytes. A is packed per
// call into panels of `mr` rows, [k_group][mr][kgroup] elements of `a_bytes` bytes each.
struct Layout {
  Isa isa;
  int mr;
  int nr;
  int kgroup;
  int a_bytes;   // 1 (int8 / uint8) or 2 (int16, for vpmaddwd)
  bool shift_a;  // A stored as a+128 (u8×s8 dot); the epilogue subtracts 128·Σₖ b[n,k]
};

inline std::int64_t round_up(std::int64_t x, std::int64_t m) { return (x + m - 1) / m * m; }

// Packed weights as the kernels read them (a view; PackedWeights in packing.hpp owns the memory).
struct PackedBView {
  const std::int8_t* data = nullptr;
  const std::int32_t* colsum128 = nullptr;  // 128·Σₖ b[n,k], padded to Np; null unless shift_a
  std::int64_t N = 0;
  std::int64_t K = 0;
  Layout layout{};
};

// The fused epilogue: out = act(acc·a_scale[m]·b_scale[n] + bias[n]) or the exact int32 acc;
// int8 output stores that value requantized with out_scale. b_scale and bias are padded to Np
// (the kernels read whole vectors); null means 1 / 0.
struct Epilogue {
  const float* a_scale = nullptr;
  const float* b_scale = nullptr;
  const float* bias = nullptr;
  Activation act = Activation::none;
  OutType out = OutType::i32;
  float out_scale = 1.0f;  // OutType::i8 only: positive, finite
  void* out_ptr = nullptr;
  std::int64_t ldo = 0;  // elements between output rows
};

enum class ASource : int { i8 = 0, f32 = 1, f64 = 2 };

// How the work is cut for one call: cache blocks and work units (see plan.hpp). Units are
// handed to threads dynamically, so a thread the OS preempts delays one unit, not a fixed
// share of the call.
struct BlockPlan {
  std::int64_t mc_panels = 1;  // A panels (of mr rows) per cache block
  std::int64_t nc_panels = 1;  // B panels (of nr columns) per cache block
  std::int64_t kc_groups = 1;  // k groups per cache block
  int threads = 1;             // threads in the parallel region
  std::int64_t unit_m = 1, unit_n = 1;    // A panels × B panels per work unit
  std::int64_t units_m = 1, units_n = 1;  // units along M and N (n varies fastest)
  int k_split = 1;  // K slices (each a full M×N partial sum) reduced in the epilogue
  // workspace: byte offsets into one buffer the caller allocates (64-byte aligned each)
  std::int64_t off_a = 0, off_qrow = 0, off_scratch = 0, off_partial = 0, bytes = 0;
  std::int64_t qrow_stride = 0;     // bytes of quantize scratch per thread (float A: mr int8
                                    // rows, then one row of A's dtype for the column map)
  std::int64_t scratch_stride = 0;  // int32s of partial-sum tile per thread
};

struct GemmCall {
  // A: (M, K) row-major, int8, or float rows quantized on the fly (then a_scale_out gets the
  // per-row scales and the epilogue reads them).
  const void* a = nullptr;
  ASource a_kind = ASource::i8;
  std::int64_t M = 0;
  std::int64_t lda = 0;
  float* a_scale_out = nullptr;
  // Float A only, optional (both or neither): K per-column coefficients in A's dtype. Each row
  // is quantized as (a − col_center)·col_mul, computed in A's precision into a per-thread
  // scratch row: a pipeline's per-column scaling fused into the packing (quant_rows.hpp).
  const void* col_center = nullptr;
  const void* col_mul = nullptr;
  PackedBView b;
  Epilogue epi;
  BlockPlan plan;
  std::uint8_t* workspace = nullptr;  // plan.bytes, 64-byte aligned
  // Set by the kernel when float A holds a NaN/Inf (or a float64 value past float32's range):
  // the first such row, or -1. The GEMM is then skipped and the caller raises.
  std::int64_t bad_row = -1;
};

// One kernel family: its layout and entry points. Every ISA translation unit defines one.
struct KernelOps {
  Layout layout;
  void (*run)(GemmCall& call);
  // Per-row symmetric quantization into plain (rows, K) int8; returns the first bad row or -1.
  std::int64_t (*quantize_f32)(const float* x, std::int64_t rows, std::int64_t K, std::int8_t* q,
                               float* scale, int threads);
  std::int64_t (*quantize_f64)(const double* x, std::int64_t rows, std::int64_t K, std::int8_t* q,
                               float* scale, int threads);
};

const KernelOps& kernel_ops_scalar();
#if defined(LEPTON_X86)
const KernelOps& kernel_ops_avx2();
const KernelOps& kernel_ops_avx_vnni();
const KernelOps& kernel_ops_avx512_vnni();
#endif

// The kernel family for `isa` (active_isa() unless told otherwise).
const KernelOps& kernel_ops(Isa isa);

}  // namespace lepton::gemm
