// Config checks, the shape heuristic, and the launches of one int8_gemm_cuda call.
#include "cuda/gemm/gemm_cuda.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

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

// Why `c` cannot run K on a device allowing `smem_limit` bytes of shared memory per block, or
// an empty string. Built-ness is checked apart (left_out_reason): it needs no device.
std::string unusable_reason(const GemmCudaConfig& c, int k, int smem_limit) {
  const TileInfo& t = tile_info(c.tile);
  if (c.split_k > k_blocks(k))
    return concat("split-K ", c.split_k, " needs K > ", (c.split_k - 1) * kBlockK,
                  " (one 64-byte k-block per split), got K=", k);
  if (t.smem_bytes() > smem_limit)
    return concat("needs ", t.smem_bytes(), " bytes of shared memory per block; the device ",
                  "allows ", smem_limit);
  return {};
}

int tiles(Tile tile, int m, int n) {
  const TileInfo& t = tile_info(tile);
  return ((m + t.bm - 1) / t.bm) * ((n + t.bn - 1) / t.bn);
}

}  // namespace

bool tile_built(Tile t) { return launch_slot(t) != nullptr; }

LaunchFn& launch_slot(Tile t) {
  // Function-local: tile TUs register from their static initialisers, in any order.
  static LaunchFn slots[] = {
#define LEPTON_TILE_SLOT(name, bm, bn, wm, wn, st) nullptr,
      LEPTON_GEMM_CUDA_TILES(LEPTON_TILE_SLOT)
#undef LEPTON_TILE_SLOT
  };
  return slots[static_cast<int>(t)];
}

// Shape heuristic: big tiles when they fill the machine, split-K when a long K would leave most
// SMs idle, small tiles for small M. Each branch lists its choices best first (ids of
// config_table(), config.cpp); the first one built and usable wins, so a reduced build degrades
// to the nearest kernel it holds. The smallest tile closes every list: it runs on any sm_80+.
int heuristic(int m, int n, int k, int sms, int smem_limit) {
  LEPTON_CHECK_ARG(m > 0 && n > 0 && k > 0 && sms > 0, "heuristic: expected positive M, N, K ",
                   "and sm_count, got ", m, ", ", n, ", ", k, ", ", sms);
  const int kb = k_blocks(k);
  std::vector<int> order;
  if (m <= 64) {
    const bool split = tiles(Tile::t64x128s4, m, n) * 2 < sms && kb >= 16;
    order = split ? std::vector<int>{9, 13, 4, 6} : std::vector<int>{4, 6};
  } else if (tiles(Tile::t128x128s4, m, n) >= 2 * sms) {
    order = n >= 256 ? std::vector<int>{2, 1, 0, 6} : std::vector<int>{1, 0, 6};
  } else if (tiles(Tile::t128x128s4, m, n) * 2 < sms && kb >= 8) {
    order = {7, 1, 0, 6};
  } else {
    order = {1, 0, 6};
  }
  const auto& table = config_table();
  auto runnable = [&](int id) {
    return tile_built(table[id].tile) && unusable_reason(table[id], k, smem_limit).empty();
  };
  for (int id : order)
    if (runnable(id)) return id;
  for (const auto& c : table)  // a build without any of the above: anything it can run
    if (runnable(c.id)) return c.id;
  LEPTON_CHECK_ARG(false, "config: no int8_gemm_cuda kernel in this build (LEPTON_CUDA_CONFIGS=",
                   configs_build(), ") can run K=", k, " with ", smem_limit,
                   " bytes of shared memory per block");
  return -1;
}

namespace {

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
  LaunchFn launch = launch_slot(tile);
  if (launch == nullptr)  // resolve_config refuses unbuilt configs; reaching here is a bug
    throw std::logic_error("int8_gemm_cuda: the kernel of a config left out of this build");
  launch(p, grid, stream);
}

// Why `c` is not in this build, or an empty string. Checked before anything touches a device.
std::string left_out_reason(const GemmCudaConfig& c) {
  if (tile_built(c.tile)) return {};
  return concat("its kernel ", tile_info(c.tile).name, " was left out by LEPTON_CUDA_CONFIGS=",
                configs_build(), " (rebuild with LEPTON_CUDA_CONFIGS=all)");
}

}  // namespace

int resolve_config(int config, int m, int n, int k, int device) {
  LEPTON_CHECK_ARG(m > 0 && n > 0 && k > 0, "a, b: expected non-empty operands, got M=", m,
                   " N=", n, " K=", k);
  LEPTON_CHECK_ARG(k <= kMaxK, "a: K=", k, " exceeds MAX_K=", kMaxK);
  if (config >= 0) {
    const GemmCudaConfig& c = config_by_id(config);
    const std::string left_out = left_out_reason(c);
    LEPTON_CHECK_ARG(left_out.empty(), "config: int8_gemm_cuda config ", c.id, " (",
                     config_name(c), ") is not in this build: ", left_out);
  }
  const int smem_limit = device_attribute(cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
  if (config < 0)
    return heuristic(m, n, k, device_attribute(cudaDevAttrMultiProcessorCount, device),
                     smem_limit);
  const GemmCudaConfig& c = config_by_id(config);
  const std::string why = unusable_reason(c, k, smem_limit);
  LEPTON_CHECK_ARG(why.empty(), "config: int8_gemm_cuda config ", c.id, " (", config_name(c),
                   ") cannot run M=", m, " N=", n, " K=", k, " on device ", device, ": ", why);
  return config;
}

long long workspace_elems(int config, int m, int n) {
  const GemmCudaConfig& c = config_by_id(config);
  return c.split_k > 1 ? static_cast<long long>(c.split_k) * m * n : 0;
}

void int8_gemm(const GemmCall& call) {
  const GemmCudaConfig& c = config_by_id(call.config);
  const std::string left_out = left_out_reason(c);
  LEPTON_CHECK_ARG(left_out.empty(), "config: int8_gemm_cuda config ", c.id, " (",
                   config_name(c), ") is not in this build: ", left_out);
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
