// Limits of the int8 GEMM that the CPU and CUDA cores share, declared once. Python reads them
// from the module (_core.gemm_max_k, exported as lepton.ops.MAX_K).
#pragma once
#include <cstdint>

namespace lepton {

// The longest K whose int32 accumulator is exact on every kernel. The binding one is the CPU's
// VNNI dot, which shifts A to u8: |Σₖ (a+128)·b| ≤ 255·128·K = 2³¹ − 2²³ < 2³¹ at K = 65536 (the
// CUDA kernels' |Σₖ a·b| ≤ 128·128·K = 2³⁰ has room to spare). Longer K is refused, never
// silently wrong.
inline constexpr std::int64_t kGemmMaxK = 65536;

}  // namespace lepton
