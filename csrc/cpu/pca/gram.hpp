// Centred Gram matrix (covariance numerator) and per-column moments for PCA, on the CPU.
//
// Both run in one pass over X, in blocks of rows: each block is centred on its own exact mean
// (computed in float64 while the block is hot in cache) into a small packed buffer, its Gram is
// accumulated in the input precision over at most kBlockRows rows, and the block result is merged
// into float64 running statistics with Chan's parallel-axis update
//     M2 = M2_a + M2_b + (n_a n_b / n) (mean_b - mean_a)(mean_b - mean_a)^T.
// Centring per block is what keeps float32 exact enough when |mean| >> spread; no centred copy of
// X is ever written, only a cache-sized packed block per thread.
#pragma once
#include <cstdint>
#include <vector>

namespace lepton::pca {

// Rows per block: the float32 in-register accumulation spans at most this many rows before it is
// flushed to float64, and the packed block (kBlockRows x d) stays in L2 for d up to ~1000.
inline constexpr std::int64_t kBlockRows = 256;

struct GramResult {
  std::int64_t n = 0;
  std::vector<double> mean;  // (d,)
  std::vector<double> gram;  // (d, d) row-major, symmetric: sum_i (x_i - mean)(x_i - mean)^T
  bool finite = true;        // false when X held NaN or Inf (then mean/gram are meaningless)
};

struct MomentsResult {
  std::int64_t n = 0;
  std::vector<double> mean;  // (d,)
  std::vector<double> m2;    // (d,) sum_i (x_ij - mean_j)^2
  bool finite = true;
};

// x: n x d, row-major, contiguous. n >= 1, d >= 1. Uses lepton::num_threads() threads.
template <class T>
GramResult centred_gram(const T* x, std::int64_t n, std::int64_t d);

template <class T>
MomentsResult column_moments(const T* x, std::int64_t n, std::int64_t d);

// Name of the kernel variant centred_gram<T> runs on now (follows lepton::active_isa()).
const char* gram_variant(bool is_double);

}  // namespace lepton::pca
