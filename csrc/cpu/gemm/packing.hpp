// Weight (B) packing: the byte layout every kernel family reads, plus the owning container the
// Python PackedLinear wraps. ISA-independent: a layout is a byte permutation of B, so packing,
// unpacking and repacking for another ISA are plain loops.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "cpu/gemm/kernel_api.hpp"

namespace lepton::gemm {

// 64-byte aligned, uninitialised bytes.
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t bytes);
  std::uint8_t* data() const { return ptr_.get(); }
  std::size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(std::uint8_t* p) const;
  };
  std::unique_ptr<std::uint8_t, Free> ptr_;
  std::size_t size_ = 0;
};

// A call-scoped workspace from a per-thread cache that only grows (and is released when a
// call needed more than kKeepBytes, so one huge call does not pin memory for the process).
std::uint8_t* thread_workspace(std::size_t bytes);
constexpr std::size_t kKeepBytes = std::size_t{64} << 20;

std::int64_t packed_b_bytes(const Layout& layout, std::int64_t N, std::int64_t K);

// b: (N, K) row-major int8 -> `out` (packed_b_bytes) and, when layout.shift_a, colsum128
// (round_up(N, nr) int32s: 128·Σₖ b[n,k], zero for pad columns).
void pack_b(const Layout& layout, const std::int8_t* b, std::int64_t N, std::int64_t K,
            std::int8_t* out, std::int32_t* colsum128, int threads);

// The inverse of pack_b: (N, K) row-major int8 back from a packed buffer.
void unpack_b(const Layout& layout, const std::int8_t* packed, std::int64_t N, std::int64_t K,
              std::int8_t* out);

// Weights packed once for one kernel family, with the epilogue's per-column data padded to
// whole panels. Immutable after construction; shared between calls by shared_ptr.
class PackedWeights {
 public:
  PackedWeights(const Layout& layout, const std::int8_t* w, std::int64_t N, std::int64_t K,
                const float* w_scale, const float* bias, int threads);
  // The same weights laid out for another kernel family (exact: a byte permutation).
  std::shared_ptr<const PackedWeights> repacked(const Layout& layout, int threads) const;

  PackedBView view() const;
  const float* b_scale() const { return has_scale_ ? scale_.data_f() : nullptr; }
  const float* bias() const { return has_bias_ ? bias_.data_f() : nullptr; }
  std::int64_t N() const { return N_; }
  std::int64_t K() const { return K_; }
  const Layout& layout() const { return layout_; }
  std::size_t nbytes() const;

 private:
  struct FloatColumns {  // padded to whole panels with zeros
    AlignedBuffer buf;
    float* data_f() const { return reinterpret_cast<float*>(buf.data()); }
  };
  Layout layout_;
  std::int64_t N_, K_;
  AlignedBuffer data_, colsum_;
  FloatColumns scale_, bias_;
  bool has_scale_, has_bias_;
};

}  // namespace lepton::gemm
