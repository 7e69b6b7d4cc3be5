#include "cpu/gemm/plan.hpp"

#include <algorithm>

namespace lepton::gemm {
namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// Work units: enough of them (kUnitsPerThread per thread) that dynamic scheduling evens out
// a preempted or slower thread, each still a whole number of panels. by_n units are column
// strips over all rows, by_m row strips over all columns, grid units an mc-block of rows by a
// column strip no wider than nc.
constexpr std::int64_t kUnitsPerThread = 4;

void choose_units(const GemmConfig& cfg, std::int64_t m_panels, std::int64_t n_panels, int threads,
                  BlockPlan& plan) {
  const std::int64_t target = threads > 1 ? kUnitsPerThread * threads : 1;
  switch (cfg.split) {
    case Split::by_n:
      plan.unit_m = m_panels;
      plan.unit_n = ceil_div(n_panels, target);
      break;
    case Split::by_m:
      plan.unit_m = ceil_div(m_panels, target);
      plan.unit_n = n_panels;
      break;
    case Split::grid: {
      plan.unit_m = std::min(plan.mc_panels, m_panels);
      const std::int64_t rows = ceil_div(m_panels, plan.unit_m);
      const std::int64_t widest = std::min(plan.nc_panels, n_panels);
      plan.unit_n = std::clamp<std::int64_t>(ceil_div(n_panels * rows, target), 1, widest);
      break;
    }
  }
  plan.units_m = ceil_div(m_panels, plan.unit_m);
  plan.units_n = ceil_div(n_panels, plan.unit_n);
  plan.threads = static_cast<int>(std::min<std::int64_t>(threads, plan.units_m * plan.units_n));
}

std::int64_t align64(std::int64_t x) { return round_up(x, 64); }

}  // namespace

BlockPlan make_plan(const Layout& layout, const GemmConfig& cfg, ASource a_kind, std::int64_t M,
                    std::int64_t N, std::int64_t K, int threads) {
  BlockPlan plan;
  const std::int64_t m_panels = ceil_div(M, layout.mr);
  const std::int64_t n_panels = ceil_div(N, layout.nr);
  const std::int64_t k_groups = ceil_div(K, layout.kgroup);
  plan.mc_panels = std::max<std::int64_t>(1, ceil_div(cfg.mc, layout.mr));
  plan.nc_panels = std::max<std::int64_t>(1, ceil_div(cfg.nc, layout.nr));
  plan.kc_groups = cfg.kc == 0 ? k_groups : std::max<std::int64_t>(1, ceil_div(cfg.kc, layout.kgroup));
  plan.kc_groups = std::min(plan.kc_groups, k_groups);

  int nt = std::max(1, threads);
  if (cfg.max_threads > 0) nt = std::min(nt, cfg.max_threads);
  if (M * N * K < kMinMacsForThreads) nt = 1;

  plan.k_split = std::max(1, cfg.k_split);
  if (plan.k_split > 1) {
    // Units are (slice, column strip) pairs: every slice is split over columns when threads
    // outnumber slices (see Kernel::run_split_k).
    const std::int64_t parts = std::min<std::int64_t>(std::max(1, nt / plan.k_split), n_panels);
    plan.unit_m = m_panels;
    plan.units_m = 1;
    plan.unit_n = ceil_div(n_panels, parts);
    plan.units_n = ceil_div(n_panels, plan.unit_n);
    plan.threads = static_cast<int>(std::min<std::int64_t>(nt, plan.k_split * plan.units_n));
  } else {
    choose_units(cfg, m_panels, n_panels, nt, plan);
  }

  // Workspace: packed A, per-thread quantize rows, per-thread partial-sum tile, split-K partials.
  const std::int64_t mp = m_panels * layout.mr, np = n_panels * layout.nr;
  std::int64_t off = 0;
  plan.off_a = off;
  off += align64(mp * k_groups * layout.kgroup * layout.a_bytes);
  plan.off_qrow = off;
  // Float A: mr int8 rows, then one float row of A's dtype (the per-column map's output, used
  // only with GemmCall::col_center; K·8 bytes per thread is too little to plan around).
  const std::int64_t a_float_bytes = a_kind == ASource::f64 ? 8 : 4;
  plan.qrow_stride =
      a_kind == ASource::i8 ? 0 : align64(layout.mr * K) + align64(a_float_bytes * K);
  off += plan.qrow_stride * plan.threads;
  plan.off_scratch = off;
  const bool blocked_k = plan.k_split == 1 && plan.kc_groups < k_groups;
  plan.scratch_stride =
      blocked_k ? round_up(plan.mc_panels * layout.mr * plan.nc_panels * layout.nr, 16) : 0;
  off += align64(plan.scratch_stride * 4 * plan.threads);
  plan.off_partial = off;
  if (plan.k_split > 1) off += align64(std::int64_t{4} * plan.k_split * mp * np);
  plan.bytes = off;
  return plan;
}

}  // namespace lepton::gemm
