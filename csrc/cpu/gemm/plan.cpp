#include "cpu/gemm/plan.hpp"

#include <algorithm>

namespace lepton::gemm {
namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// Thread grid tm × tn over (A panels, B panels): the smallest largest region first (balance),
// then the smallest perimeter (each thread reads its rows of A and columns of B).
void choose_grid(const GemmConfig& cfg, std::int64_t m_panels, std::int64_t n_panels, int mr,
                 int nr, int threads, BlockPlan& plan) {
  int best_tm = 1, best_tn = 1;
  std::int64_t best_area = -1, best_perimeter = 0;
  for (int tm = 1; tm <= threads; ++tm) {
    int tn = threads / tm;
    if (cfg.split == Split::by_n && tm != 1) break;
    if (cfg.split == Split::by_m) tn = 1;
    const int tm_eff = static_cast<int>(std::min<std::int64_t>(tm, m_panels));
    const int tn_eff = static_cast<int>(std::min<std::int64_t>(tn, n_panels));
    const std::int64_t rows = ceil_div(m_panels, tm_eff), cols = ceil_div(n_panels, tn_eff);
    const std::int64_t area = rows * cols;
    const std::int64_t perimeter = rows * mr + cols * nr;
    if (best_area < 0 || area < best_area ||
        (area == best_area && perimeter < best_perimeter)) {
      best_area = area;
      best_perimeter = perimeter;
      best_tm = tm_eff;
      best_tn = tn_eff;
    }
  }
  plan.tm = best_tm;
  plan.tn = best_tn;
  plan.threads = best_tm * best_tn;
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
    // Units are (slice, column part) pairs: every slice is split over columns when threads
    // outnumber slices (see Kernel::run_split_k).
    const std::int64_t parts = std::min<std::int64_t>(std::max(1, nt / plan.k_split), n_panels);
    plan.tm = 1;
    plan.tn = static_cast<int>(parts);
    plan.threads = static_cast<int>(std::min<std::int64_t>(nt, plan.k_split * parts));
  } else {
    choose_grid(cfg, m_panels, n_panels, layout.mr, layout.nr, nt, plan);
  }

  // Workspace: packed A, per-thread quantize rows, per-thread partial-sum tile, split-K partials.
  const std::int64_t mp = m_panels * layout.mr, np = n_panels * layout.nr;
  std::int64_t off = 0;
  plan.off_a = off;
  off += align64(mp * k_groups * layout.kgroup * layout.a_bytes);
  plan.off_qrow = off;
  plan.qrow_stride = a_kind == ASource::i8 ? 0 : align64(layout.mr * K);
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
