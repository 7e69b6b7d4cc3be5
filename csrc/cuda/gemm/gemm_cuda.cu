// Config checks, the shape heuristic, and the launches of one int8_gemm_cuda call.
#include "cuda/gemm/gemm_cuda.hpp"

#include <algorithm>

#include "common/errors.hpp"
#include "cuda/check.cuh"
#include "cuda/device_guard.hpp"
#include "cuda/gemm/config.hpp"
#include "cuda/gemm/epilogue.cuh"
#include "cuda/gemm/tiles.hpp"

namespace lepton::cuda::gemm {
namespace {

constexpr int kMaxK = 65536;  // int32 exactness bound, the same as the CPU kernels'

int device_attribute(cudaDeviceAttr attr, int device) {
  int value = 0;
  LEPTON_CUDA_CHECK(cudaDeviceGetAttribute(&value, attr, device));
  return value;
}

const GemmCudaConfig& config_by_id(int id) {
  const auto& table = config_table();
  LEPTON_CHECK_ARG(id >= 0 && id < static_cast<int>(table.size()), "config: unknown ",
                   "int8_gemm_cuda config id ", id, "; ids are 0..", table.size() - 1);
  return table[id];
}

int k_blocks(int k) { return (k + kBlockK - 1) / kBlockK; }

// Why `c` cannot run (M, N, K) on `device`, or an empty string.
std::string unusable_reason(const GemmCudaConfig& c, int k, int device) {
  const TileInfo& t = tile_info(c.tile);
  if (c.split_k > k_blocks(k))
    return concat("split-K ", c.split_k, " needs K > ", (c.split_k - 1) * kBlockK,
                  " (one 64-byte k-block per split), got K=", k);
  const int smem_limit = device_attribute(cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
  if (t.smem_bytes() > smem_limit)
    return concat("needs ", t.smem_bytes(), " bytes of shared memory per block; device ",
                  device, " allows ", smem_limit);
  return {};
}

int tiles(Tile tile, int m, int n) {
  const TileInfo& t = tile_info(tile);
  return ((m + t.bm - 1) / t.bm) * ((n + t.bn - 1) / t.bn);
}

// Shape heuristic: big tiles when they fill the machine, split-K when a long K would leave most
// SMs idle, small tiles for small M. Ids refer to config_table() (config.cpp).
int heuristic(int m, int n, int k, int device) {
  const int sms = device_attribute(cudaDevAttrMultiProcessorCount, device);
  const int kb = k_blocks(k);
  int id;
  if (m <= 64) {
    id = (tiles(Tile::t64x128s4, m, n) * 2 < sms && kb >= 16) ? 9 : 4;
  } else if (tiles(Tile::t128x128s4, m, n) >= 2 * sms) {
    id = n >= 256 ? 2 : 1;
  } else if (tiles(Tile::t128x128s4, m, n) * 2 < sms && kb >= 8) {
    id = 7;
  } else {
    id = 1;
  }
  // Every choice above is usable on sm_80+ (≤ 96 KiB shared memory, split-K only with the
  // k-blocks for it); fall back to the smallest tile on a device with less shared memory.
  if (!unusable_reason(config_by_id(id), k, device).empty()) id = 6;
  return id;
}

__global__ void splitk_reduce_kernel(GemmArgs p) {
  const long long total = static_cast<long long>(p.m) * p.n;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < total;
       i += stride) {
    int acc = 0;  // exact: the full sum is bounded by MAX_K
    for (int s = 0; s < p.split_k; ++s) acc += p.workspace[s * total + i];
    store_one(p, static_cast<int>(i / p.n), static_cast<int>(i % p.n), acc);
  }
}

void launch_kernel(Tile tile, const GemmArgs& p, int grid, cudaStream_t stream) {
  switch (tile) {
#define LEPTON_TILE_CASE(name, bm, bn, wm, wn, st) \
  case Tile::name: launch_##name(p, grid, stream); return;
    LEPTON_GEMM_CUDA_TILES(LEPTON_TILE_CASE)
#undef LEPTON_TILE_CASE
  }
  throw std::logic_error("int8_gemm_cuda: tile missing from launch_kernel");
}

}  // namespace

int resolve_config(int config, int m, int n, int k, int device) {
  LEPTON_CHECK_ARG(m > 0 && n > 0 && k > 0, "a, b: expected non-empty operands, got M=", m,
                   " N=", n, " K=", k);
  LEPTON_CHECK_ARG(k <= kMaxK, "a: K=", k, " exceeds MAX_K=", kMaxK);
  if (config < 0) return heuristic(m, n, k, device);
  const GemmCudaConfig& c = config_by_id(config);
  const std::string why = unusable_reason(c, k, device);
  LEPTON_CHECK_ARG(why.empty(), "config: int8_gemm_cuda config ", c.id, " (", config_name(c),
                   ") cannot run M=", m, " N=", n, " K=", k, ": ", why);
  return config;
}

long long workspace_elems(int config, int m, int n) {
  const GemmCudaConfig& c = config_by_id(config);
  return c.split_k > 1 ? static_cast<long long>(c.split_k) * m * n : 0;
}

void int8_gemm(const GemmCall& call) {
  const GemmCudaConfig& c = config_by_id(call.config);
  // The Python side guarantees these; a violation is a bug there, refused rather than run.
  LEPTON_CHECK_ARG(call.a % 16 == 0 && call.b % 16 == 0 && call.lda % 16 == 0 &&
                       call.ldb % 16 == 0 && call.k % 16 == 0,
                   "a, b: the CUDA kernel needs 16-byte aligned operands with K and row ",
                   "strides multiples of 16 bytes");
  LEPTON_CHECK_ARG(call.lda >= call.k && call.ldb >= call.k, "a, b: row stride below K");
  LEPTON_CHECK_ARG(call.out_dtype >= kOutInt32 && call.out_dtype <= kOutBFloat16,
                   "out_dtype: unknown code ", call.out_dtype);
  LEPTON_CHECK_ARG(call.activation >= kActNone && call.activation <= kActSigmoid,
                   "activation: unknown code ", call.activation);
  const long long need = workspace_elems(call.config, call.m, call.n);
  LEPTON_CHECK_ARG(need == 0 || (call.workspace != 0 && call.workspace_size >= need),
                   "workspace: config ", c.id, " needs ", need, " int32 elements, got ",
                   call.workspace_size);

  GemmArgs p{};
  p.a = reinterpret_cast<const std::int8_t*>(call.a);
  p.b = reinterpret_cast<const std::int8_t*>(call.b);
  p.lda = call.lda;
  p.ldb = call.ldb;
  p.m = call.m;
  p.n = call.n;
  p.k = call.k;
  p.out = reinterpret_cast<void*>(call.out);
  p.out_dtype = call.out_dtype;
  p.a_scale = reinterpret_cast<const float*>(call.a_scale);
  p.b_scale = reinterpret_cast<const float*>(call.b_scale);
  p.bias = reinterpret_cast<const float*>(call.bias);
  p.activation = call.activation;
  p.workspace = reinterpret_cast<std::int32_t*>(call.workspace);
  p.split_k = c.split_k;
  p.k_per_split = ((k_blocks(call.k) + c.split_k - 1) / c.split_k) * kBlockK;

  DeviceGuard guard(call.device);
  auto stream = reinterpret_cast<cudaStream_t>(call.stream);
  const int sms = device_attribute(cudaDevAttrMultiProcessorCount, call.device);
  const long long work = static_cast<long long>(tiles(c.tile, call.m, call.n)) * c.split_k;
  LEPTON_CHECK_ARG(work <= 0x7fffffffLL, "a, b: M=", call.m, " N=", call.n,
                   " gives too many tiles for one launch");
  long long grid = work;
  if (c.cta_cap_div > 0) grid = std::min<long long>(grid, std::max(1, sms / c.cta_cap_div));
  launch_kernel(c.tile, p, static_cast<int>(grid), stream);
  if (c.split_k > 1) {
    const long long total = static_cast<long long>(call.m) * call.n;
    const long long blocks = std::min<long long>((total + 255) / 256, 8LL * sms);
    splitk_reduce_kernel<<<static_cast<int>(blocks), 256, 0, stream>>>(p);
    LEPTON_CUDA_CHECK_LAUNCH("splitk_reduce_kernel");
  }
}

}  // namespace lepton::cuda::gemm
