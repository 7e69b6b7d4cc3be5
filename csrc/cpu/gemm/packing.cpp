#include "cpu/gemm/packing.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

namespace lepton::gemm {

AlignedBuffer::AlignedBuffer(std::size_t bytes) : size_(bytes) {
  const std::size_t rounded = static_cast<std::size_t>(round_up(static_cast<std::int64_t>(bytes), 64));
  void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (p == nullptr) throw std::bad_alloc();
  ptr_.reset(static_cast<std::uint8_t*>(p));
}

void AlignedBuffer::Free::operator()(std::uint8_t* p) const { std::free(p); }

std::uint8_t* thread_workspace(std::size_t bytes) {
  thread_local AlignedBuffer cache;
  if (cache.size() < bytes || (cache.size() > kKeepBytes && bytes <= kKeepBytes)) {
    cache = AlignedBuffer();  // free first: never hold both
    cache = AlignedBuffer(bytes);
  }
  return cache.data();
}

std::int64_t packed_b_bytes(const Layout& layout, std::int64_t N, std::int64_t K) {
  return round_up(N, layout.nr) * round_up(K, layout.kgroup);
}

namespace {

// Byte offset of b[n, k] in the packed layout: panel, then k group, then column, then k in group.
struct PackedIndex {
  std::int64_t panel_bytes, group_bytes;
  int nr, kgroup;
  PackedIndex(const Layout& l, std::int64_t K)
      : panel_bytes(l.nr * round_up(K, l.kgroup)), group_bytes(l.nr * l.kgroup), nr(l.nr),
        kgroup(l.kgroup) {}
  std::int64_t operator()(std::int64_t n, std::int64_t k) const {
    return (n / nr) * panel_bytes + (k / kgroup) * group_bytes + (n % nr) * kgroup + k % kgroup;
  }
};

}  // namespace

namespace {

// One panel: [k group][nr columns][G bytes]. The writes stream through the panel in order while
// nr rows of b are each read sequentially; G is a compile-time size so a group is one move.
template <int G>
void pack_panel(const std::int8_t* b, std::int64_t N, std::int64_t K, int nr, std::int64_t p,
                std::int8_t* panel) {
  const std::int64_t full = K / G, groups = (K + G - 1) / G;
  const int cols = static_cast<int>(std::min<std::int64_t>(nr, N - p * nr));
  const std::int8_t* rows = b + p * nr * K;
  for (std::int64_t g = 0; g < groups; ++g) {
    std::int8_t* dst = panel + g * nr * G;
    if (g < full) {
      for (int c = 0; c < cols; ++c) std::memcpy(dst + c * G, rows + c * K + g * G, G);
    } else {
      for (int c = 0; c < cols; ++c)
        for (int i = 0; i < G; ++i) dst[c * G + i] = g * G + i < K ? rows[c * K + g * G + i] : 0;
    }
    std::memset(dst + cols * G, 0, static_cast<std::size_t>(nr - cols) * G);
  }
}

}  // namespace

void pack_b(const Layout& layout, const std::int8_t* b, std::int64_t N, std::int64_t K,
            std::int8_t* out, std::int32_t* colsum128, int threads) {
  const std::int64_t n_panels = (N + layout.nr - 1) / layout.nr;
  const std::int64_t panel_bytes = layout.nr * round_up(K, layout.kgroup);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && N * K > (1 << 20))
  for (std::int64_t p = 0; p < n_panels; ++p) {
    std::int8_t* panel = out + p * panel_bytes;
    switch (layout.kgroup) {
      case 1: pack_panel<1>(b, N, K, layout.nr, p, panel); break;
      case 2: pack_panel<2>(b, N, K, layout.nr, p, panel); break;
      default: pack_panel<4>(b, N, K, layout.nr, p, panel); break;
    }
    if (colsum128 == nullptr) continue;
    for (int c = 0; c < layout.nr; ++c) {
      const std::int64_t n = p * layout.nr + c;
      std::int32_t sum = 0;
      if (n < N)
        for (std::int64_t k = 0; k < K; ++k) sum += b[n * K + k];
      colsum128[n] = 128 * sum;
    }
  }
}

void unpack_b(const Layout& layout, const std::int8_t* packed, std::int64_t N, std::int64_t K,
              std::int8_t* out) {
  const PackedIndex at(layout, K);
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t k = 0; k < K; ++k) out[n * K + k] = packed[at(n, k)];
}

PackedWeights::PackedWeights(const Layout& layout, const std::int8_t* w, std::int64_t N,
                             std::int64_t K, const float* w_scale, const float* bias, int threads)
    : layout_(layout), N_(N), K_(K), has_scale_(w_scale != nullptr), has_bias_(bias != nullptr) {
  const std::int64_t np = round_up(N, layout.nr);
  data_ = AlignedBuffer(static_cast<std::size_t>(packed_b_bytes(layout, N, K)));
  colsum_ = AlignedBuffer(static_cast<std::size_t>(np) * 4);
  pack_b(layout, w, N, K, reinterpret_cast<std::int8_t*>(data_.data()),
         reinterpret_cast<std::int32_t*>(colsum_.data()), threads);
  auto pad_columns = [&](FloatColumns& dst, const float* src) {
    dst.buf = AlignedBuffer(static_cast<std::size_t>(np) * 4);
    std::memset(dst.buf.data(), 0, static_cast<std::size_t>(np) * 4);
    if (src != nullptr) std::memcpy(dst.buf.data(), src, static_cast<std::size_t>(N) * 4);
  };
  pad_columns(scale_, w_scale);
  pad_columns(bias_, bias);
}

std::shared_ptr<const PackedWeights> PackedWeights::repacked(const Layout& layout,
                                                             int threads) const {
  AlignedBuffer plain(static_cast<std::size_t>(N_ * K_));
  auto* w = reinterpret_cast<std::int8_t*>(plain.data());
  unpack_b(layout_, reinterpret_cast<const std::int8_t*>(data_.data()), N_, K_, w);
  return std::make_shared<const PackedWeights>(layout, w, N_, K_, b_scale(), bias(), threads);
}

PackedBView PackedWeights::view() const {
  PackedBView v;
  v.data = reinterpret_cast<const std::int8_t*>(data_.data());
  v.colsum128 = layout_.shift_a ? reinterpret_cast<const std::int32_t*>(colsum_.data()) : nullptr;
  v.N = N_;
  v.K = K_;
  v.layout = layout_;
  return v;
}

std::size_t PackedWeights::nbytes() const {
  return data_.size() + colsum_.size() + scale_.buf.size() + bias_.buf.size();
}

}  // namespace lepton::gemm
