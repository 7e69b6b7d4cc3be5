// Centred Gram matrix (covariance numerator) and per-column moments for PCA, on the CPU.
//
// Both run in one pass over X, in blocks of rows: each block is centred on its own exact mean
// (computed in float64 while the block is hot in cache) into a small packed buffer, its Gram is
// accumulated (in float64, or for speed in the input precision: see Accumulate) over the block's
// rows, and the block result is merged into float64 running statistics with Chan's update
//     M2 = M2_a + M2_b + (n_a n_b / n) (mean_b - mean_a)(mean_b - mean_a)^T.
// Centring per block is what keeps float32 exact enough when |mean| >> spread; no centred copy of
// X is ever written, only a cache-sized packed block per thread.
#pragma once
#include <cstdint>
#include <vector>

namespace lepton::pca {

// Rows per block: an in-register float32 accumulation spans at most this many rows before it is
// flushed to float64, and the packed block (kBlockRows x d) stays in L2 for d up to ~1000.
inline constexpr std::int64_t kBlockRows = 256;
// Past d = kWideColumns the d x d float64 statistics leave the cache and every block's flush
// goes to memory: longer blocks flush less often (measured best at d = 2048; no gain at 4096,
// where the randomized solver takes over anyway).
inline constexpr std::int64_t kWideColumns = 1024;
inline constexpr std::int64_t kWideBlockRows = 512;

// Rows per block of centred_gram for d columns (column_moments always uses kBlockRows).
std::int64_t gram_block_rows(std::int64_t d);

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

// How a block's products are summed before the float64 merge. `input`: in the input's precision
// over at most gram_block_rows(d) rows (float32 input: twice the speed; Gram entries to ~1e-7
// of the largest, so eigenvalues far below the largest lose digits). `float64`: exact products
// of the centred values summed in float64 (float32 input: as accurate as the data allows).
enum class Accumulate { input, float64 };

// x: n x d, row-major, contiguous. n >= 1, d >= 1. Uses lepton::num_threads() threads.
template <class T>
GramResult centred_gram(const T* x, std::int64_t n, std::int64_t d, Accumulate acc);

template <class T>
MomentsResult column_moments(const T* x, std::int64_t n, std::int64_t d);

// Name of the kernel variant centred_gram<T> runs on now (follows lepton::active_isa()).
const char* gram_variant(bool is_double);

}  // namespace lepton::pca
