#include "cpu/gemm/dispatch.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>

#include "common/errors.hpp"
#include "common/gemm_limits.hpp"
#include "common/threads.hpp"
#include "cpu/gemm/config.hpp"
#include "cpu/gemm/plan.hpp"

namespace lepton::gemm {

const KernelOps& kernel_ops(Isa isa) {
  switch (isa) {
#if defined(LEPTON_X86)
    case Isa::avx512_vnni: return kernel_ops_avx512_vnni();
    case Isa::avx_vnni: return kernel_ops_avx_vnni();
    case Isa::avx2: return kernel_ops_avx2();
#endif
    default: return kernel_ops_scalar();
  }
}

namespace {

bool debug_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("LEPTON_DEBUG");
    return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
  }();
  return on;
}

// LEPTON_DEBUG=1: one line per (ISA, config) the process runs, DeepGEMM's print-once style.
void debug_print_once(const Layout& layout, const GemmConfig& cfg, const BlockPlan& p,
                      std::int64_t M, std::int64_t N, std::int64_t K) {
  if (!debug_enabled()) return;
  static std::mutex mutex;
  static std::set<std::pair<int, int>> seen;
  std::lock_guard<std::mutex> lock(mutex);
  if (!seen.insert({static_cast<int>(layout.isa), cfg.id}).second) return;
  std::fprintf(stderr,
               "lepton int8_gemm: isa=%s tile=%dx%d kgroup=%d M=%lld N=%lld K=%lld %s -> "
               "blocks %lldx%lldx%lld panels/groups, threads=%d units=%lldx%lld of %lldx%lld "
               "panels, k_split=%d\n",
               isa_name(layout.isa), layout.mr, layout.nr, layout.kgroup,
               static_cast<long long>(M), static_cast<long long>(N), static_cast<long long>(K),
               cfg.printable().c_str(), static_cast<long long>(p.mc_panels),
               static_cast<long long>(p.nc_panels), static_cast<long long>(p.kc_groups),
               p.threads, static_cast<long long>(p.units_m), static_cast<long long>(p.units_n),
               static_cast<long long>(p.unit_m), static_cast<long long>(p.unit_n), p.k_split);
}

const GemmConfig& resolve_config(int config_id, std::int64_t M, std::int64_t N, std::int64_t K) {
  const GemmConfig& cfg =
      config_id < 0 ? heuristic_config(M, N, K, num_threads()) : config_by_id(config_id);
  check_usable(cfg, M, N, K);
  return cfg;
}

void check_shape(std::int64_t M, std::int64_t N, std::int64_t K) {
  LEPTON_CHECK_ARG(M >= 1 && N >= 1 && K >= 1, "int8_gemm: M, N, K must be >= 1, got ", M, ", ",
                   N, ", ", K);
  LEPTON_CHECK_ARG(K <= kGemmMaxK, "int8_gemm: K=", K, " exceeds MAX_K=", kGemmMaxK,
                   " (int32 accumulation is exact only up to it)");
}

// The requantizing store divides by out_scale: zero, a negative or a non-finite step describes
// no int8 grid (Python checks first; this guards the kernels).
void check_out_scale(OutType out, float out_scale) {
  if (out != OutType::i8) return;
  LEPTON_CHECK_ARG(std::isfinite(out_scale) && out_scale > 0.0f,
                   "out_scale: expected a positive finite float, got ", out_scale);
}

// Resolves the config, plans the call and finds workspace: `extra` leading bytes for the caller
// (64-byte aligned), then the plan's part, which call.workspace points at. Returns the start.
std::uint8_t* prepare(const KernelOps& ops, GemmCall& call, std::int64_t N, std::int64_t K,
                      int config_id, std::int64_t extra) {
  const GemmConfig& cfg = resolve_config(config_id, call.M, N, K);
  call.plan = make_plan(ops.layout, cfg, call.a_kind, call.M, N, K, num_threads());
  extra = round_up(extra, 64);
  std::uint8_t* ws = thread_workspace(static_cast<std::size_t>(extra + call.plan.bytes));
  call.workspace = ws + extra;
  debug_print_once(ops.layout, cfg, call.plan, call.M, N, K);
  return ws;
}

}  // namespace

void int8_gemm(const std::int8_t* a, const std::int8_t* b, std::int64_t M, std::int64_t N,
               std::int64_t K, const EpilogueArgs& epi, void* out, int config_id) {
  check_shape(M, N, K);
  check_out_scale(epi.out, epi.out_scale);
  const KernelOps& ops = kernel_ops(active_isa());
  const Layout& layout = ops.layout;
  GemmCall call;
  call.a = a;
  call.a_kind = ASource::i8;
  call.M = M;
  call.lda = K;

  // B is packed per call into the leading workspace: packed bytes, column sums, padded
  // b_scale and bias (the kernels read whole vectors of them).
  const std::int64_t np = round_up(N, layout.nr);
  const std::int64_t b_bytes = round_up(packed_b_bytes(layout, N, K), 64);
  const std::int64_t col_bytes = round_up(np * 4, 64);
  std::uint8_t* ws = prepare(ops, call, N, K, config_id, b_bytes + 3 * col_bytes);
  auto* packed = reinterpret_cast<std::int8_t*>(ws);
  auto* colsum = reinterpret_cast<std::int32_t*>(ws + b_bytes);
  auto* scale = reinterpret_cast<float*>(ws + b_bytes + col_bytes);
  auto* bias = reinterpret_cast<float*>(ws + b_bytes + 2 * col_bytes);
  pack_b(layout, b, N, K, packed, layout.shift_a ? colsum : nullptr, call.plan.threads);
  auto pad = [&](float* dst, const float* src) -> const float* {
    if (src == nullptr) return nullptr;
    std::memcpy(dst, src, static_cast<std::size_t>(N) * 4);
    std::memset(dst + N, 0, static_cast<std::size_t>(np - N) * 4);
    return dst;
  };
  call.b = PackedBView{packed, layout.shift_a ? colsum : nullptr, N, K, layout};
  call.epi = Epilogue{epi.a_scale, pad(scale, epi.b_scale), pad(bias, epi.bias), epi.act, epi.out,
                      epi.out_scale, out, N};
  ops.run(call);
}

void linear_int8(const void* x, ASource kind, std::int64_t M, const PackedWeights& w,
                 Activation act, OutType out_type, float out_scale, void* out, float* x_scale,
                 int config_id, const void* col_center, const void* col_mul) {
  LEPTON_CHECK_ARG(kind != ASource::i8, "x: linear_int8 takes float rows");
  LEPTON_CHECK_ARG((col_center == nullptr) == (col_mul == nullptr),
                   "col_center, col_mul: pass both or neither");
  LEPTON_CHECK_ARG(out_type != OutType::i32,
                   "out_dtype: linear_int8 writes a float or int8 result");
  check_out_scale(out_type, out_scale);
  const std::int64_t N = w.N(), K = w.K();
  check_shape(M, N, K);
  const KernelOps& ops = kernel_ops(w.layout().isa);
  LEPTON_CHECK_ARG(ops.layout.nr == w.layout().nr, "w: packed layout does not match its kernel");
  GemmCall call;
  call.a = x;
  call.a_kind = kind;
  call.M = M;
  call.lda = K;
  call.a_scale_out = x_scale;
  call.col_center = col_center;
  call.col_mul = col_mul;
  call.b = w.view();
  call.epi = Epilogue{x_scale, w.b_scale(), w.bias(), act, out_type, out_scale, out, N};
  prepare(ops, call, N, K, config_id, 0);
  ops.run(call);
  LEPTON_CHECK_ARG(call.bad_row < 0, "x: row ", call.bad_row,
                   " holds NaN or Inf (or, for float64, a value too large for a float32 scale); "
                   "linear_int8 needs finite inputs");
}

void quantize_rows(const void* x, ASource kind, std::int64_t rows, std::int64_t K,
                   std::int8_t* q, float* scale) {
  const KernelOps& ops = kernel_ops(active_isa());
  const std::int64_t bad =
      kind == ASource::f32
          ? ops.quantize_f32(static_cast<const float*>(x), rows, K, q, scale, num_threads())
          : ops.quantize_f64(static_cast<const double*>(x), rows, K, q, scale, num_threads());
  LEPTON_CHECK_ARG(bad < 0, "x: row ", bad,
                   " holds NaN or Inf (or, for float64, a value too large for a float32 scale); "
                   "quantize needs finite inputs");
}

std::shared_ptr<const PackedWeights> pack_weights(const std::int8_t* w, std::int64_t N,
                                                  std::int64_t K, const float* w_scale,
                                                  const float* bias) {
  check_shape(1, N, K);
  return std::make_shared<const PackedWeights>(kernel_ops(active_isa()).layout, w, N, K, w_scale,
                                               bias, num_threads());
}

std::shared_ptr<const PackedWeights> for_active_isa(const std::shared_ptr<const PackedWeights>& w) {
  const Isa isa = active_isa();
  if (w->layout().isa == isa) return w;
  return w->repacked(kernel_ops(isa).layout, num_threads());
}

}  // namespace lepton::gemm
