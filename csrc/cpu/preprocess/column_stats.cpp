// Pass 1: per-column moments in one read of the data.
//
// The array is cut into work items of about the config's item_kib. Each item accumulates per-lane moments
// with the ISA kernel, folds its lanes into per-column moments, and stores them in its own slot;
// the slots are then merged in item order. Results therefore do not depend on the thread count
// or on which thread ran which item; a different item size regroups the float64 merges (mean and
// M2 change by round-off; count, min and max cannot).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>

#include "common/isa.hpp"
#include "common/threads.hpp"
#include "cpu/preprocess/preprocess.hpp"

namespace lepton::prep {
namespace {

using i64 = std::int64_t;

// Narrow row-major data is viewed as rows of k·cols lanes so that vectors are filled: at least
// kMinRowLanes lanes, and a multiple of kMaxVectorLanes when that costs at most 16 rows per view row.
constexpr i64 kMinRowLanes = 32;
// Column-major data: each column is viewed as rows of this many lanes.
constexpr i64 kColumnLanes = 32;
// Bound on the per-item result slots (items × columns × 5 doubles) for very wide arrays.
constexpr i64 kSlotBudgetBytes = i64{64} << 20;

struct Moment {
  double count = 0, mean = 0, m2 = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
};

// Chan et al.: the moments of the union of two disjoint sets of values.
void merge_into(Moment& a, const Moment& b) {
  const double n = a.count + b.count;
  if (b.count > 0) {
    const double frac = b.count / n;
    const double delta = b.mean - a.mean;
    a.mean += delta * frac;
    a.m2 += b.m2 + delta * delta * a.count * frac;
    a.count = n;
  }
  a.min = std::min(a.min, b.min);
  a.max = std::max(a.max, b.max);
}

// Per-thread lane accumulators, structure of arrays.
class LaneScratch {
 public:
  explicit LaneScratch(i64 lanes) : lanes_(lanes), data_(static_cast<size_t>(5 * lanes)) {}
  LaneMoments reset() {
    double* p = data_.data();
    std::fill(p, p + 3 * lanes_, 0.0);
    std::fill(p + 3 * lanes_, p + 4 * lanes_, std::numeric_limits<double>::infinity());
    std::fill(p + 4 * lanes_, p + 5 * lanes_, -std::numeric_limits<double>::infinity());
    return view();
  }
  LaneMoments view() {
    double* p = data_.data();
    return {p, p + lanes_, p + 2 * lanes_, p + 3 * lanes_, p + 4 * lanes_};
  }
  Moment lane(i64 l) {
    LaneMoments v = view();
    return {v.count[l], v.mean[l], v.m2[l], v.min[l], v.max[l]};
  }

 private:
  i64 lanes_;
  std::vector<double> data_;
};

// How the array is cut: `items` work items, each producing `slot_cols` column moments.
struct Plan {
  i64 lanes;        // lanes of the kernel's row view
  i64 view_rows;    // full view rows (per column for column-major)
  i64 tail;         // rows (row-major) or elements (column-major) left after the view rows
  i64 rows_per_item;
  i64 items_per_col;  // column-major: items per column; row-major: total items
  i64 slot_cols;
};

template <class T>
Plan make_plan(i64 rows, i64 cols, Layout layout, i64 item_bytes) {
  Plan p{};
  const i64 elem = static_cast<i64>(sizeof(T));
  if (layout == Layout::row_major) {
    i64 k = 1;
    if (cols < kMinRowLanes) {
      k = kMaxVectorLanes / std::gcd<i64, i64>(cols, kMaxVectorLanes);  // k·cols % 16 == 0
      while (k * cols < kMinRowLanes) k *= 2;
    }
    p.lanes = k * cols;
    p.view_rows = rows / k;
    p.tail = rows % k;
    p.slot_cols = cols;
  } else {
    p.lanes = kColumnLanes;
    p.view_rows = rows / kColumnLanes;
    p.tail = rows % kColumnLanes;
    p.slot_cols = 1;
  }
  const i64 row_bytes = p.lanes * elem;
  p.rows_per_item = std::max<i64>(1, item_bytes / row_bytes);
  i64 items = std::max<i64>(1, (p.view_rows + p.rows_per_item - 1) / p.rows_per_item);
  if (layout == Layout::row_major) {
    const i64 budget = std::max<i64>(1, kSlotBudgetBytes / (cols * i64{sizeof(Moment)}));
    if (items > budget) {
      items = std::min(std::max<i64>(budget, num_threads()), std::max<i64>(1, p.view_rows));
      p.rows_per_item = std::max<i64>(1, (p.view_rows + items - 1) / items);
      items = std::max<i64>(1, (p.view_rows + p.rows_per_item - 1) / p.rows_per_item);
    }
  }
  p.items_per_col = items;
  return p;
}

// One work item: accumulate its view rows (and the tail, for the last item of its column),
// then fold lanes into column moments in lane order.
template <class T>
void run_item(const KernelTable& kt, const T* x, i64 rows, i64 cols, Layout layout, const Plan& p,
              i64 item, LaneScratch& scratch, Moment* slot) {
  AccumulateFn<T> accumulate;
  if constexpr (std::is_same_v<T, float>) {
    accumulate = kt.accumulate_f32;
  } else {
    accumulate = kt.accumulate_f64;
  }
  const i64 col = layout == Layout::row_major ? 0 : item / p.items_per_col;
  const i64 chunk = layout == Layout::row_major ? item : item % p.items_per_col;
  const T* base = layout == Layout::row_major ? x : x + col * rows;
  const i64 r0 = chunk * p.rows_per_item;
  const i64 r1 = std::min(p.view_rows, r0 + p.rows_per_item);
  const LaneMoments acc = scratch.reset();
  if (r1 > r0) accumulate(base + r0 * p.lanes, r1 - r0, p.lanes, p.lanes, acc);
  if (chunk == p.items_per_col - 1 && p.tail > 0) {
    const T* tail = base + p.view_rows * p.lanes;
    if (layout == Layout::row_major)
      accumulate(tail, p.tail, cols, cols, acc);  // lanes 0..cols-1 are columns 0..cols-1
    else
      accumulate(tail, 1, p.tail, p.tail, acc);
  }
  for (i64 c = 0; c < p.slot_cols; ++c) slot[c] = Moment{};
  for (i64 l = 0; l < p.lanes; ++l) merge_into(slot[l % p.slot_cols], scratch.lane(l));
}

}  // namespace

template <class T>
ColumnMoments column_moments(const T* x, i64 rows, i64 cols, Layout layout,
                             const PrepConfig& cfg) {
  const KernelTable& kt = kernel_table(active_isa());
  // The plan depends on num_threads() only for very wide arrays (the slot budget); the config's
  // thread cap is left out of it so that a capped config sums exactly like the uncapped one.
  const Plan p = make_plan<T>(rows, cols, layout, cfg.item_bytes());
  const i64 items = layout == Layout::row_major ? p.items_per_col : p.items_per_col * cols;
  std::vector<Moment> slots(static_cast<size_t>(items * p.slot_cols));

  // Allocated before the parallel region: an allocation failure must reach Python as an
  // exception, not terminate inside an OpenMP thread.
  const int threads = cfg.threads_for(items);
  std::vector<LaneScratch> scratch(static_cast<size_t>(threads), LaneScratch(p.lanes));
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (i64 item = 0; item < items; ++item)
    run_item(kt, x, rows, cols, layout, p, item, scratch[thread_index()], &slots[item * p.slot_cols]);

  std::vector<Moment> total(static_cast<size_t>(cols));
  for (i64 item = 0; item < items; ++item) {
    const i64 first = layout == Layout::row_major ? 0 : item / p.items_per_col;
    for (i64 c = 0; c < p.slot_cols; ++c) merge_into(total[first + c], slots[item * p.slot_cols + c]);
  }
  ColumnMoments out;
  for (auto* v : {&out.count, &out.mean, &out.m2, &out.min, &out.max})
    v->resize(static_cast<size_t>(cols));
  for (i64 c = 0; c < cols; ++c) {
    const Moment& m = total[c];
    out.count[c] = m.count, out.mean[c] = m.mean, out.m2[c] = m.m2;
    out.min[c] = m.min, out.max[c] = m.max;
  }
  return out;
}

template ColumnMoments column_moments<float>(const float*, i64, i64, Layout, const PrepConfig&);
template ColumnMoments column_moments<double>(const double*, i64, i64, Layout, const PrepConfig&);

}  // namespace lepton::prep
