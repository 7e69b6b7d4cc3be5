// Turning a configuration into a concrete cut of one call: cache blocks in the kernel's units,
// the thread grid and the workspace layout. ISA-independent; the kernels only read the result.
#pragma once
#include <cstdint>

#include "cpu/gemm/config.hpp"
#include "cpu/gemm/kernel_api.hpp"

namespace lepton::gemm {

// `threads` is what lepton.set_num_threads allows; the plan may use fewer (cfg.max_threads,
// too little work, too few blocks).
BlockPlan make_plan(const Layout& layout, const GemmConfig& cfg, ASource a_kind, std::int64_t M,
                    std::int64_t N, std::int64_t K, int threads);

// Below this many multiply-adds a call runs on one thread: forking costs more than it saves.
constexpr std::int64_t kMinMacsForThreads = std::int64_t{1} << 20;

}  // namespace lepton::gemm
