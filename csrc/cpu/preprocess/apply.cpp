// Pass 2: replace -> clip -> scale -> convert in one read and one write of the data.
//
// Every step is always executed; a step that was not asked for has identity coefficients
// (fill never used, bounds ±inf, center 0, mul 1), which are exact no-ops in IEEE arithmetic.
// So one branch-free loop body serves every combination of options.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/isa.hpp"
#include "common/threads.hpp"
#include "cpu/preprocess/preprocess.hpp"

namespace lepton::prep {
namespace {

using i64 = std::int64_t;

// Work item size, streaming threshold, thread cap and item order come from the PrepConfig
// (config.cpp says why each default is what it is).

constexpr i64 out_size(OutKind kind) {
  switch (kind) {
    case OutKind::f32: return 4;
    case OutKind::f64: return 8;
    case OutKind::f16: return 2;
    case OutKind::i8: return 1;
  }
  return 0;
}

// Coefficients in the kernel's compute type, each array tiled to period + kMaxVectorLanes.
template <class C>
class Tile {
 public:
  Tile(i64 period, bool replace_inf, bool stream) {
    const i64 len = period + kMaxVectorLanes;
    for (auto& a : arrays_) a.resize(static_cast<size_t>(len));
    view_ = {arrays_[0].data(), arrays_[1].data(), arrays_[2].data(), arrays_[3].data(),
             arrays_[4].data(), period, replace_inf, stream};
  }
  // Entry i of every array takes column col(i)'s coefficients.
  template <class ColumnOf>
  void fill(const ColumnCoefs& c, ColumnOf col) {
    const double* src[5] = {c.fill, c.lo, c.hi, c.center, c.mul};
    for (int a = 0; a < 5; ++a)
      for (size_t i = 0; i < arrays_[a].size(); ++i)
        arrays_[a][i] = static_cast<C>(src[a][col(static_cast<i64>(i))]);
  }
  const ApplyTile& view() const { return view_; }
  Tile(const Tile&) = delete;  // view_ points into arrays_
  Tile& operator=(const Tile&) = delete;

 private:
  std::vector<C> arrays_[5];
  ApplyTile view_{};
};

// By default items are taken from the end of the array backwards. The statistics pass reads front
// to back, so when it just ran, the end of the array is what is still in the last-level cache.
template <class T, class C>
void run(const ApplyFn<T> fn, const T* x, char* out, i64 esize, i64 rows, i64 cols, Layout layout,
         const ColumnCoefs& coefs, bool stream, const PrepConfig& cfg) {
  const i64 elem = static_cast<i64>(sizeof(T));
  const i64 item_bytes = cfg.item_bytes();
  const bool forward = cfg.apply_forward;
  if (layout == Layout::row_major) {
    // Whole rows are contiguous: the array is one flat run whose lane wraps every `cols`
    // elements; the period is a multiple of cols that is at least one vector.
    const i64 period = cols * ((kMaxVectorLanes + cols - 1) / cols);
    Tile<C> tile(period, coefs.replace_inf, stream);
    tile.fill(coefs, [cols](i64 i) { return i % cols; });
    const i64 rows_per_item = std::max<i64>(1, item_bytes / (cols * elem));
    const i64 items = (rows + rows_per_item - 1) / rows_per_item;
#pragma omp parallel for num_threads(cfg.threads_for(items)) schedule(dynamic, 1)
    for (i64 step = 0; step < items; ++step) {
      const i64 item = forward ? step : items - 1 - step;  // see above
      const i64 r0 = item * rows_per_item;
      const i64 n = std::min(rows, r0 + rows_per_item) - r0;
      fn(x + r0 * cols, out + r0 * cols * esize, n * cols, 0, tile.view());
    }
  } else {
    // Each column is contiguous with one set of coefficients: a tile of a single column, built
    // per item in the thread's own tile (one per column would cost cols × 5 × 32 entries).
    const i64 rows_per_item = std::max<i64>(1, item_bytes / elem);
    const i64 per_col = (rows + rows_per_item - 1) / rows_per_item;
    const i64 items = per_col * cols;
    const int threads = cfg.threads_for(items);
    std::vector<std::unique_ptr<Tile<C>>> tiles;
    for (int t = 0; t < threads; ++t)
      tiles.push_back(std::make_unique<Tile<C>>(kMaxVectorLanes, coefs.replace_inf, stream));
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (i64 step = 0; step < items; ++step) {
      const i64 item = forward ? step : items - 1 - step;  // see above
      const i64 c = item / per_col;
      const i64 r0 = (item % per_col) * rows_per_item;
      const i64 n = std::min(rows, r0 + rows_per_item) - r0;
      const i64 offset = c * rows + r0;
      Tile<C>& tile = *tiles[thread_index()];
      tile.fill(coefs, [c](i64) { return c; });
      fn(x + offset, out + offset * esize, n, 0, tile.view());
    }
  }
}

}  // namespace

template <class T>
void apply_columns(const T* x, void* out, OutKind kind, i64 rows, i64 cols, Layout layout,
                   const ColumnCoefs& coefs, StreamMode stream_mode, const PrepConfig& cfg) {
  const KernelTable& kt = kernel_table(active_isa());
  ApplyFn<T> fn;
  if constexpr (std::is_same_v<T, float>) {
    fn = kt.apply_f32[static_cast<int>(kind)];
  } else {
    fn = kt.apply_f64[static_cast<int>(kind)];
  }
  const i64 esize = out_size(kind);
  const bool stream = stream_mode == StreamMode::automatic ? cfg.streams(rows * cols * esize)
                                                           : stream_mode == StreamMode::on;
  char* o = static_cast<char*>(out);
  // Same rule as the kernels' ComputeT: double arithmetic when the input or output is double.
  if (std::is_same_v<T, double> || kind == OutKind::f64)
    run<T, double>(fn, x, o, esize, rows, cols, layout, coefs, stream, cfg);
  else
    run<T, float>(fn, x, o, esize, rows, cols, layout, coefs, stream, cfg);
}

template void apply_columns<float>(const float*, void*, OutKind, i64, i64, Layout,
                                   const ColumnCoefs&, StreamMode,
                                   const PrepConfig&);
template void apply_columns<double>(const double*, void*, OutKind, i64, i64, Layout,
                                    const ColumnCoefs&, StreamMode,
                                   const PrepConfig&);

}  // namespace lepton::prep
