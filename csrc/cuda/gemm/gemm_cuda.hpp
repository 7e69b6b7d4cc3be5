// Host interface of the CUDA int8 GEMM: plain C++ so the bindings need no CUDA headers.
// Pointers are device addresses as integers, owned by the caller's array library.
#pragma once
#include <cstdint>

namespace lepton::cuda::gemm {

struct GemmCall {
  std::uintptr_t a, b;  // int8, K-major, 16-byte aligned, lda/ldb multiples of 16
  long long lda, ldb;   // row strides in bytes
  int m, n, k;          // k a multiple of 16, ≤ kGemmMaxK
  std::uintptr_t out;   // (M, N) contiguous, of out_dtype (args.hpp OutDtype)
  int out_dtype;
  std::uintptr_t a_scale, b_scale, bias;  // float32 vectors or 0
  int activation;                          // args.hpp Activation
  float out_scale;                         // int8 output only: its quantization step
  std::uintptr_t workspace;                // int32, workspace_elems(...) of them, or 0
  long long workspace_size;                // elements available at `workspace`
  int config;                              // a table id; resolve_config() first
  int device;
  std::uintptr_t stream;  // cudaStream_t of the caller's library (0 = legacy default)
};

// What a config's usability depends on besides the shape: the output dtype and device facts.
struct DeviceFacts {
  int sm_count;
  int smem_per_block;  // cudaDevAttrMaxSharedMemoryPerBlockOptin
  int capability;      // 10·major + minor (90: Hopper, where the sm_90a wgmma kernels run)
};

// The config to run: `config` checked (std::invalid_argument naming it and saying why it
// cannot run this shape, output dtype or device), or the shape heuristic's choice when
// config < 0.
int resolve_config(int config, int m, int n, int k, int out_dtype, int device);
// The shape heuristic behind resolve_config(-1, ...), on given device facts (no device
// touched): the id of a config that is built and usable, best first for the shape.
int heuristic(int m, int n, int k, int out_dtype, const DeviceFacts& device);
// int32 elements of workspace the config needs for this call (split-K partials, CUTLASS's
// scheduler workspace), 0 when none; the caller allocates it.
long long workspace_elems(int config, int m, int n, int k, int out_dtype, int device);
// Launches (asynchronously, on call.stream) the GEMM and, with split-K, the reduce kernel.
void int8_gemm(const GemmCall& call);

}  // namespace lepton::cuda::gemm
