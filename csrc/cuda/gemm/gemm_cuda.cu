// Config checks, the shape heuristic, and the launches of one int8_gemm_cuda call.
#include "cuda/gemm/gemm_cuda.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "common/gemm_limits.hpp"
#include "cuda/check.cuh"
#include "cuda/device_guard.hpp"
#include "cuda/gemm/config.hpp"
#include "cuda/gemm/epilogue.cuh"
#include "cuda/gemm/mma/mma_launch.hpp"
#include "cuda/gemm/wgmma/wgmma_launch.hpp"

namespace lepton::cuda::gemm {
namespace {


int device_attribute(cudaDeviceAttr attr, int device) {
  int value = 0;
  LEPTON_CUDA_CHECK(cudaDeviceGetAttribute(&value, attr, device));
  return value;
}

DeviceFacts device_facts(int device) {
  return {device_attribute(cudaDevAttrMultiProcessorCount, device),
          device_attribute(cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
          10 * device_attribute(cudaDevAttrComputeCapabilityMajor, device) +
              device_attribute(cudaDevAttrComputeCapabilityMinor, device)};
}

const GemmCudaConfig& config_by_id(int id) {
  const auto& table = config_table();
  LEPTON_CHECK_ARG(id >= 0 && id < static_cast<int>(table.size()), "config: unknown ",
                   "int8_gemm_cuda config id ", id, "; ids are 0..", table.size() - 1);
  return table[id];
}

const char* out_name(int out_dtype) {
  static const char* names[] = {"int32", "float32", "float16", "bfloat16", "int8"};
  return out_dtype >= kOutInt32 && out_dtype <= kOutInt8 ? names[out_dtype] : "unknown";
}

int out_bytes(int out_dtype) {
  static const int bytes[] = {4, 4, 2, 2, 1};
  return bytes[out_dtype];
}

int k_blocks(int k) { return (k + kBlockK - 1) / kBlockK; }

int ceil_div(int a, int b) { return (a + b - 1) / b; }

// CTAs of a grid of `work` items under the config's cap. wgmma: the SM count handed to
// CUTLASS's persistent scheduler (hw_info.sm_count), which truncates the grid to the problem's
// tiles itself, in whole clusters; so it is not truncated by `work` here, and it is a multiple of
// the cluster size (at least one cluster): an odd or too small count gives a grid that is not a
// whole number of clusters, or an empty one (tile_scheduler_params.h, get_grid_shape).
int capped_grid(const GemmCudaConfig& c, long long work, int sms) {
  if (c.engine == Engine::kWgmma) {
    const WgKernelInfo& w = wg_info(c.wg());
    const int cluster = w.cluster_m * w.cluster_n;
    const int cap = c.cta_cap_div > 0 ? std::max(1, sms / c.cta_cap_div) : sms;
    return std::max(cluster, cap / cluster * cluster);
  }
  long long grid = work;
  if (c.cta_cap_div > 0) grid = std::min<long long>(grid, std::max(1, sms / c.cta_cap_div));
  return static_cast<int>(grid);
}

// Problem arguments without operands: enough for CUTLASS's shape checks and workspace size.
GemmArgs shape_args(int m, int n, int k, int out_dtype) {
  GemmArgs p{};
  p.m = m;
  p.n = n;
  p.k = k;
  p.lda = k;
  p.ldb = k;
  p.out_dtype = out_dtype;
  p.split_k = 1;
  return p;
}

int tiles(const GemmCudaConfig& c, int m, int n) {
  if (c.engine == Engine::kWgmma) {
    const WgKernelInfo& w = wg_info(c.wg());
    return ceil_div(m, w.bm) * ceil_div(n, w.bn);
  }
  const TileInfo& t = tile_info(c.tile());
  return ceil_div(m, t.bm) * ceil_div(n, t.bn);
}

// Why `c` is not in this build, or an empty string. Checked before anything touches a device.
std::string left_out_reason(const GemmCudaConfig& c, int out_dtype) {
  if (c.engine == Engine::kMma) {
    if (tile_built(c.tile())) return {};
    return concat("its kernel ", kernel_name(c), " was left out by LEPTON_CUDA_CONFIGS=",
                  configs_build(), " (rebuild with LEPTON_CUDA_CONFIGS=all)");
  }
  if (!config_built(c)) return concat("its kernel ", kernel_name(c), " ", wgmma_build_note());
  if (out_dtype != kOutInt8 && !wg_built(c.wg(), out_dtype))
    return concat("its kernel ", kernel_name(c), " has no ", out_name(out_dtype),
                  " instantiation in this build");
  return {};
}

// Why config `c` cannot run a K this long whatever the device, or "" (checked before any
// device is queried, so it is the same message with or without a GPU).
std::string shape_reason(const GemmCudaConfig& c, int k) {
  if (c.engine == Engine::kMma && c.split_k > k_blocks(k))
    return concat("split-K ", c.split_k, " needs K > ", (c.split_k - 1) * kBlockK,
                  " (one 64-byte k-block per split), got K=", k);
  return {};
}

// Why built config `c` cannot run this call on a device with `dev`'s facts, or "".
std::string unusable_reason(const GemmCudaConfig& c, int m, int n, int k, int out_dtype,
                            const DeviceFacts& dev) {
  if (std::string why = shape_reason(c, k); !why.empty()) return why;
  if (c.engine == Engine::kMma) {
    const TileInfo& t = tile_info(c.tile());
    if (t.smem_bytes() > dev.smem_per_block)
      return concat("needs ", t.smem_bytes(), " bytes of shared memory per block; the device ",
                    "allows ", dev.smem_per_block);
    return {};
  }
  if (dev.capability != 90)
    return concat("its sm_90a (wgmma) kernel runs on Hopper (sm_90) only; the device is sm_",
                  dev.capability);
  if (out_dtype == kOutInt8)
    return "the wgmma_s8 kernels have no int8 output; the mma_s8 configs requantize";
  const int align = 16 / out_bytes(out_dtype);
  if (n % align != 0)
    return concat("N=", n, " must be a multiple of ", align, " for ", out_name(out_dtype),
                  " output (16-byte rows for the TMA store); the mma_s8 configs take any N");
  const wgmma::Entry* entry = wgmma::slot(c.kernel, out_dtype);
  const int k_padded = (k + 15) / 16 * 16;  // what the op launches: it zero-pads K to 16
  const std::string cutlass_says = entry->cannot_run(
      shape_args(m, n, k_padded, out_dtype), capped_grid(c, tiles(c, m, n), dev.sm_count));
  if (!cutlass_says.empty()) return concat("CUTLASS cannot run it: ", cutlass_says);
  return {};
}

bool runnable(const GemmCudaConfig& c, int m, int n, int k, int out_dtype,
              const DeviceFacts& dev) {
  return left_out_reason(c, out_dtype).empty() &&
         unusable_reason(c, m, n, k, out_dtype, dev).empty();
}

}  // namespace

std::string wgmma_build_note() {
  const std::string status = wgmma_status();
  if (status == "no-cutlass")
    return "was left out: no CUTLASS headers at build time (pip install nvidia-cutlass==4.2.0.0, "
           "or set LEPTON_CUTLASS_DIR, and rebuild)";
  if (status == "no-sm90a")
    return "was left out: LEPTON_CUDA_ARCHITECTURES has no 90a (rebuild with 90a-real in it)";
  return concat("was left out by LEPTON_CUDA_CONFIGS=", configs_build(),
                " (rebuild with LEPTON_CUDA_CONFIGS=all)");
}

bool tile_built(Tile t) { return launch_slot(t) != nullptr; }

bool wg_built(WgKernel k, int out_dtype) {
  return out_dtype >= 0 && out_dtype < wgmma::kOutSlots &&
         wgmma::slot(static_cast<int>(k), out_dtype) != nullptr;
}

LaunchFn& launch_slot(Tile t) {
  // Function-local: tile TUs register from their static initialisers, in any order.
  static LaunchFn slots[kTileCount] = {};
  return slots[static_cast<int>(t)];
}

const wgmma::Entry*& wgmma::slot(int kernel, int out_dtype) {
  static const Entry* slots[kWgKernelCount][kOutSlots] = {};
  return slots[kernel][out_dtype];
}

// Shape heuristic: big tiles when they fill the machine, split-K when a long K would leave most
// SMs idle, small tiles for small M; on Hopper the wgmma kernels lead each list. Each branch
// lists its choices best first (ids of config_table(), config.cpp); the first one built and
// usable wins, so a reduced build, another GPU or an unaligned N degrades to the nearest kernel
// it can run. The smallest mma tile closes every list: it runs anything on any sm_80+.
int heuristic(int m, int n, int k, int out_dtype, const DeviceFacts& dev) {
  LEPTON_CHECK_ARG(m > 0 && n > 0 && k > 0 && dev.sm_count > 0,
                   "heuristic: expected positive M, N, K and sm_count, got ", m, ", ", n, ", ",
                   k, ", ", dev.sm_count);
  LEPTON_CHECK_ARG(out_dtype >= kOutInt32 && out_dtype <= kOutInt8,
                   "out_dtype: unknown code ", out_dtype);
  const auto& table = config_table();
  const int kb = k_blocks(k), sms = dev.sm_count;
  const int tiles128 = tiles(table[1], m, n);
  std::vector<int> order;
  if (m <= 64) {
    const bool split = tiles(table[4], m, n) * 2 < sms && kb >= 16;
    order = split ? std::vector<int>{9, 22, 13, 4, 6} : std::vector<int>{22, 4, 6};
  } else if (tiles128 >= 2 * sms) {
    order = n >= 256 ? std::vector<int>{15, 17, 2, 1, 0, 6} : std::vector<int>{17, 1, 0, 6};
  } else if (tiles128 * 2 < sms && kb >= 8) {  // wgmma: 64-row tiles fill twice the SMs
    order = {22, 7, 20, 1, 0, 6};
  } else {
    order = {20, 17, 1, 0, 6};
  }
  for (int id : order)
    if (runnable(table[id], m, n, k, out_dtype, dev)) return id;
  for (const auto& c : table)  // a build without any of the above: anything it can run
    if (runnable(c, m, n, k, out_dtype, dev)) return c.id;
  LEPTON_CHECK_ARG(false, "config: no int8_gemm_cuda kernel in this build (LEPTON_CUDA_CONFIGS=",
                   configs_build(), ") can run M=", m, " N=", n, " K=", k, " with ",
                   out_name(out_dtype), " output on this device");
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

void check_built(const GemmCudaConfig& c, int out_dtype) {
  const std::string left_out = left_out_reason(c, out_dtype);
  LEPTON_CHECK_ARG(left_out.empty(), "config: int8_gemm_cuda config ", c.id, " (",
                   config_name(c), ") is not in this build: ", left_out);
}

void check_out_dtype(int out_dtype) {
  LEPTON_CHECK_ARG(out_dtype >= kOutInt32 && out_dtype <= kOutInt8, "out_dtype: unknown code ",
                   out_dtype);
}

}  // namespace

int resolve_config(int config, int m, int n, int k, int out_dtype, int device) {
  LEPTON_CHECK_ARG(m > 0 && n > 0 && k > 0, "a, b: expected non-empty operands, got M=", m,
                   " N=", n, " K=", k);
  LEPTON_CHECK_ARG(k <= kGemmMaxK, "a: K=", k, " exceeds MAX_K=", kGemmMaxK);
  check_out_dtype(out_dtype);
  if (config >= 0) {
    const GemmCudaConfig& c = config_by_id(config);
    check_built(c, out_dtype);
    const std::string why = shape_reason(c, k);
    LEPTON_CHECK_ARG(why.empty(), "config: int8_gemm_cuda config ", c.id, " (", config_name(c),
                     ") cannot run M=", m, " N=", n, " K=", k, ": ", why);
  }
  const DeviceFacts dev = device_facts(device);
  if (config < 0) return heuristic(m, n, k, out_dtype, dev);
  const GemmCudaConfig& c = config_by_id(config);
  const std::string why = unusable_reason(c, m, n, k, out_dtype, dev);
  LEPTON_CHECK_ARG(why.empty(), "config: int8_gemm_cuda config ", c.id, " (", config_name(c),
                   ") cannot run M=", m, " N=", n, " K=", k, " with ", out_name(out_dtype),
                   " output on device ", device, ": ", why);
  return config;
}

long long workspace_elems(int config, int m, int n, int k, int out_dtype, int device) {
  const GemmCudaConfig& c = config_by_id(config);
  check_out_dtype(out_dtype);
  if (c.engine == Engine::kMma)
    return c.split_k > 1 ? static_cast<long long>(c.split_k) * m * n : 0;
  check_built(c, out_dtype);
  const int sms = device_attribute(cudaDevAttrMultiProcessorCount, device);
  const std::size_t bytes = wgmma::slot(c.kernel, out_dtype)
                                ->workspace_bytes(shape_args(m, n, k, out_dtype),
                                                  capped_grid(c, tiles(c, m, n), sms));
  return static_cast<long long>((bytes + 3) / 4);
}

void int8_gemm(const GemmCall& call) {
  const GemmCudaConfig& c = config_by_id(call.config);
  check_out_dtype(call.out_dtype);
  check_built(c, call.out_dtype);
  // The Python side guarantees these; a violation is a bug there, refused rather than run.
  LEPTON_CHECK_ARG(call.a % 16 == 0 && call.b % 16 == 0 && call.lda % 16 == 0 &&
                       call.ldb % 16 == 0 && call.k % 16 == 0,
                   "a, b: the CUDA kernel needs 16-byte aligned operands with K and row ",
                   "strides multiples of 16 bytes");
  LEPTON_CHECK_ARG(call.lda >= call.k && call.ldb >= call.k, "a, b: row stride below K");
  LEPTON_CHECK_ARG(call.activation >= kActNone && call.activation <= kActSigmoid,
                   "activation: unknown code ", call.activation);
  LEPTON_CHECK_ARG(call.out_dtype != kOutInt8 || (call.out_scale > 0.0f &&
                                                  call.out_scale <= 3.4e38f),
                   "out_scale: expected a positive finite float32 for int8 output, got ",
                   call.out_scale);
  if (c.engine == Engine::kWgmma)  // 16-byte vector loads of the row-broadcast vectors
    LEPTON_CHECK_ARG(call.b_scale % 16 == 0 && call.bias % 16 == 0 && call.out % 16 == 0,
                     "b_scale, bias, out: the wgmma kernels need 16-byte aligned vectors");

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
  p.out_scale = call.out_scale;
  p.workspace = reinterpret_cast<std::int32_t*>(call.workspace);
  p.split_k = c.split_k;
  p.k_per_split = ((k_blocks(call.k) + c.split_k - 1) / c.split_k) * kBlockK;

  DeviceGuard guard(call.device);
  auto stream = reinterpret_cast<cudaStream_t>(call.stream);
  const DeviceFacts dev = device_facts(call.device);
  const std::string why = unusable_reason(c, call.m, call.n, call.k, call.out_dtype, dev);
  LEPTON_CHECK_ARG(why.empty(), "config: int8_gemm_cuda config ", c.id, " (", config_name(c),
                   ") cannot run this call: ", why);
  const long long need =
      workspace_elems(call.config, call.m, call.n, call.k, call.out_dtype, call.device);
  LEPTON_CHECK_ARG(need == 0 || (call.workspace != 0 && call.workspace_size >= need),
                   "workspace: config ", c.id, " needs ", need, " int32 elements, got ",
                   call.workspace_size);
  const long long work = static_cast<long long>(tiles(c, call.m, call.n)) * c.split_k;
  LEPTON_CHECK_ARG(work <= 0x7fffffffLL, "a, b: M=", call.m, " N=", call.n,
                   " gives too many tiles for one launch");
  const int grid = capped_grid(c, work, dev.sm_count);
  if (c.engine == Engine::kWgmma) {
    wgmma::slot(c.kernel, call.out_dtype)
        ->run(p, {grid, reinterpret_cast<void*>(call.workspace), stream});
    return;
  }
  LaunchFn launch = launch_slot(c.tile());
  if (launch == nullptr)  // check_built refused unbuilt configs; reaching here is a bug
    throw std::logic_error("int8_gemm_cuda: the kernel of a config left out of this build");
  launch(p, grid, stream);
  if (c.split_k > 1) {
    const long long total = static_cast<long long>(call.m) * call.n;
    const long long blocks = std::min<long long>((total + 255) / 256, 8LL * dev.sm_count);
    splitk_reduce_kernel<<<static_cast<int>(blocks), 256, 0, stream>>>(p);
    LEPTON_CUDA_CHECK_LAUNCH("splitk_reduce_kernel");
  }
}

}  // namespace lepton::cuda::gemm
