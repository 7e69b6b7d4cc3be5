// The sm_90a (wgmma) kernels as seen by the dispatcher: plain C++, no CUTLASS headers, so the
// slow CUTLASS instantiations stay in their own generated translation units.
//
// Each kernel × output dtype is one TU (CMake generates them from wgmma_instance.cu.in) that
// registers its entry points at load time; a build without CUTLASS or without sm_90a leaves the
// slots empty and the dispatcher reports those configs as not built.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <string>

#include "cuda/gemm/args.hpp"

namespace lepton::cuda::gemm::wgmma {

struct LaunchArgs {
  int sm_count;         // CTAs of the persistent grid (the device's SMs, or fewer: the cap)
  void* workspace;      // workspace_bytes() bytes owned by the caller, or null when 0
  cudaStream_t stream;  // the caller's library's stream
};

struct Entry {
  std::string (*cannot_run)(const GemmArgs& p, int sm_count);  // "" when it can
  std::size_t (*workspace_bytes)(const GemmArgs& p, int sm_count);
  void (*run)(const GemmArgs& p, const LaunchArgs& launch);
};

// Output dtypes with a wgmma instantiation: the LEPTON_WGMMA_OUT rows of kernels.def, which are
// the OutDtype codes 0 .. kOutSlots-1 (args.hpp); others use mma.sync.
inline constexpr int kOutCodes[] = {
#define LEPTON_WGMMA_OUT(out) out,
#include "cuda/gemm/kernels.def"
};
constexpr int kOutSlots = sizeof(kOutCodes) / sizeof(kOutCodes[0]);
constexpr bool out_codes_are_slots() {
  for (int i = 0; i < kOutSlots; ++i)
    if (kOutCodes[i] != i) return false;
  return true;
}
static_assert(out_codes_are_slots(), "kernels.def: the LEPTON_WGMMA_OUT rows are codes 0, 1, ...");

// The entry of wgmma kernel `kernel` (a LEPTON_WGMMA_KERNEL row of kernels.def) for `out_dtype`,
// or nullptr when that TU is not in this build.
const Entry*& slot(int kernel, int out_dtype);

struct Registrar {
  Registrar(int kernel, int out_dtype, const Entry* entry) { slot(kernel, out_dtype) = entry; }
};

}  // namespace lepton::cuda::gemm::wgmma
