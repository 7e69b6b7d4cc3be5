// Threaded driver of the Gram and moments passes: picks the ISA kernel table, splits the rows into
// blocks handed out dynamically (a busy core does not hold the others back), keeps one set of
// float64 running statistics per thread and merges them exactly at the end.
#include "cpu/pca/gram.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>

#include "common/errors.hpp"
#include "common/isa.hpp"
#include "common/threads.hpp"
#include "cpu/pca/gram_kernels.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace lepton::pca {
namespace {

// Thread-private float64 statistics are ld^2 doubles each: past this budget fewer threads are
// used rather than letting memory grow with the core count.
constexpr std::int64_t kStateBudgetBytes = std::int64_t{512} << 20;
constexpr std::int64_t kBlocksPerGrab = 4;

template <class T>
const KernelTable<T>& active_table();

template <>
const KernelTable<float>& active_table<float>() {
#if defined(LEPTON_X86)
  const Isa isa = active_isa();
  if (isa == Isa::avx512_vnni) return kernels_avx512_f32();
  if (isa == Isa::avx2 || isa == Isa::avx_vnni) return kernels_avx2_f32();
#endif
  return kernels_scalar_f32();
}

template <>
const KernelTable<double>& active_table<double>() {
#if defined(LEPTON_X86)
  const Isa isa = active_isa();
  if (isa == Isa::avx512_vnni) return kernels_avx512_f64();
  if (isa == Isa::avx2 || isa == Isa::avx_vnni) return kernels_avx2_f64();
#endif
  return kernels_scalar_f64();
}

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

template <class T>
std::unique_ptr<T[], FreeDeleter> aligned_buffer(std::int64_t count) {
  constexpr std::size_t kAlign = 64;
  std::size_t bytes = static_cast<std::size_t>(count) * sizeof(T);
  bytes = (bytes + kAlign - 1) / kAlign * kAlign;
  void* p = std::aligned_alloc(kAlign, bytes == 0 ? kAlign : bytes);
  if (p == nullptr) throw std::bad_alloc();
  return std::unique_ptr<T[], FreeDeleter>(static_cast<T*>(p));
}

// One thread's running statistics (m2 is ld x ld for the Gram, ld for the moments) and its
// scratch, all allocated before the parallel region so nothing can throw inside it.
template <class T>
struct State {
  std::int64_t n = 0;
  std::vector<double> mean, m2, block_mean, delta;
  std::unique_ptr<T[], FreeDeleter> pack;
  State(std::int64_t ld, std::int64_t m2_size, std::int64_t pack_size)
      : mean(ld, 0.0), m2(m2_size, 0.0), block_mean(ld, 0.0), delta(ld, 0.0),
        pack(pack_size > 0 ? aligned_buffer<T>(pack_size) : nullptr) {}
  Running running(std::int64_t ld) { return Running{n, mean.data(), m2.data(), ld}; }
};

int threads_for(std::int64_t blocks, std::int64_t state_bytes) {
  std::int64_t t = std::min<std::int64_t>(num_threads(), blocks);
  const std::int64_t by_memory = std::max<std::int64_t>(1, kStateBudgetBytes / state_bytes);
  return static_cast<int>(std::max<std::int64_t>(1, std::min(t, by_memory)));
}

// Runs block_fn(state, first_row, rows) over all row blocks; each thread has its own State.
template <class T, class BlockFn>
std::vector<State<T>> run_blocks(std::int64_t n, std::int64_t ld, std::int64_t m2_size,
                                 std::int64_t pack_size, BlockFn block_fn) {
  const std::int64_t blocks = (n + kBlockRows - 1) / kBlockRows;
  const int threads = threads_for(blocks, m2_size * static_cast<std::int64_t>(sizeof(double)));
  std::vector<State<T>> states;
  states.reserve(threads);
  for (int t = 0; t < threads; ++t) states.emplace_back(ld, m2_size, pack_size);
#if defined(_OPENMP)
#pragma omp parallel for num_threads(threads) schedule(dynamic, kBlocksPerGrab)
#endif
  for (std::int64_t b = 0; b < blocks; ++b) {
#if defined(_OPENMP)
    State<T>& st = states[omp_get_thread_num()];
#else
    State<T>& st = states[0];
#endif
    const std::int64_t first = b * kBlockRows;
    block_fn(st, first, std::min(kBlockRows, n - first));
  }
  return states;
}

// Chan's merge of b into a; m2 is full ld x ld (upper triangle used) or a vector (diag only).
template <class T>
void merge_into(State<T>& a, const State<T>& b, std::int64_t d, std::int64_t ld, bool matrix) {
  if (b.n == 0) return;
  const double na = static_cast<double>(a.n), nb = static_cast<double>(b.n);
  const double cross = na * nb / (na + nb);
  std::vector<double> delta(d);
  for (std::int64_t j = 0; j < d; ++j) delta[j] = b.mean[j] - a.mean[j];
  if (matrix) {
    for (std::int64_t i = 0; i < d; ++i) {
      const double ci = cross * delta[i];
      double* out = a.m2.data() + i * ld;
      const double* in = b.m2.data() + i * ld;
      for (std::int64_t j = i; j < d; ++j) out[j] += in[j] + ci * delta[j];
    }
  } else {
    for (std::int64_t j = 0; j < d; ++j) a.m2[j] += b.m2[j] + cross * delta[j] * delta[j];
  }
  for (std::int64_t j = 0; j < d; ++j) a.mean[j] += delta[j] * nb / (na + nb);
  a.n += b.n;
}

bool all_finite(const std::vector<double>& v, std::int64_t count) {
  for (std::int64_t j = 0; j < count; ++j)
    if (!std::isfinite(v[j])) return false;
  return true;
}

void check_shape(std::int64_t n, std::int64_t d) {
  LEPTON_CHECK_ARG(n >= 1, "X: expected at least 1 row, got ", n);
  LEPTON_CHECK_ARG(d >= 1, "X: expected at least 1 column, got ", d);
}

}  // namespace

template <class T>
GramResult centred_gram(const T* x, std::int64_t n, std::int64_t d) {
  check_shape(n, d);
  const KernelTable<T>& k = active_table<T>();
  const std::int64_t ld = (d + k.panel - 1) / k.panel * k.panel;
  auto states = run_blocks<T>(n, ld, ld * ld, kBlockRows * ld,
                             [&](State<T>& st, std::int64_t first, std::int64_t rows) {
                               Running r = st.running(ld);
                               k.gram_block(x + first * d, rows, d, st.pack.get(),
                                            st.block_mean.data(), st.delta.data(), r);
                               st.n = r.n;
                             });
  for (std::size_t t = 1; t < states.size(); ++t) merge_into(states[0], states[t], d, ld, true);
  State<T>& s = states[0];
  GramResult out;
  out.n = s.n;
  out.mean.assign(s.mean.begin(), s.mean.begin() + d);
  out.gram.resize(static_cast<std::size_t>(d * d));
  for (std::int64_t i = 0; i < d; ++i)
    for (std::int64_t j = i; j < d; ++j) {
      const double v = s.m2[i * ld + j];
      out.gram[i * d + j] = v;
      out.gram[j * d + i] = v;
    }
  out.finite = all_finite(out.mean, d) && all_finite(out.gram, d * d);
  return out;
}

template <class T>
MomentsResult column_moments(const T* x, std::int64_t n, std::int64_t d) {
  check_shape(n, d);
  const KernelTable<T>& k = active_table<T>();
  auto states = run_blocks<T>(n, d, d, 0, [&](State<T>& st, std::int64_t first, std::int64_t rows) {
    Running r = st.running(d);
    k.moments_block(x + first * d, rows, d, st.block_mean.data(), r);
    st.n = r.n;
  });
  for (std::size_t t = 1; t < states.size(); ++t) merge_into(states[0], states[t], d, d, false);
  State<T>& s = states[0];
  MomentsResult out;
  out.n = s.n;
  out.mean = s.mean;
  out.m2 = s.m2;
  out.finite = all_finite(out.mean, d) && all_finite(out.m2, d);
  return out;
}

const char* gram_variant(bool is_double) {
  return is_double ? active_table<double>().name : active_table<float>().name;
}

template GramResult centred_gram<float>(const float*, std::int64_t, std::int64_t);
template GramResult centred_gram<double>(const double*, std::int64_t, std::int64_t);
template MomentsResult column_moments<float>(const float*, std::int64_t, std::int64_t);
template MomentsResult column_moments<double>(const double*, std::int64_t, std::int64_t);

}  // namespace lepton::pca
