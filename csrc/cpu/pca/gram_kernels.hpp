// The per-ISA kernel table of the Gram and moments passes. Each gram_<isa>.cpp compiles the same
// body (gram_body.hpp) with its own vector width and returns its table; gram.cpp picks one at run
// time from lepton::active_isa(). Only plain function pointers cross this boundary, so nothing
// compiled with wide-vector flags can be shared (and later run) by the baseline path.
#pragma once
#include <cstdint>

namespace lepton::pca {

// Running float64 statistics one thread merges its blocks into. `m2` is ld x ld (ld = padded d);
// only the upper triangle (i <= j) is maintained. `mean` has ld entries (padding stays 0).
struct Running {
  std::int64_t n;
  double* mean;
  double* m2;
  std::int64_t ld;
};

template <class T>
struct KernelTable {
  const char* name;
  int panel;  // NR: columns per packed panel; the Gram is padded to a multiple of it
  // Merge rows [0, rows) of x (row stride d) into st. Scratch: pack has rows*ld elements (64-byte
  // aligned), block_mean and delta have ld doubles.
  void (*gram_block)(const T* x, std::int64_t rows, std::int64_t d, T* pack, double* block_mean,
                     double* delta, Running& st);
  // Same merge for per-column sums of squares only (st.m2 has ld entries).
  void (*moments_block)(const T* x, std::int64_t rows, std::int64_t d, double* block_mean,
                        Running& st);
};

const KernelTable<float>& kernels_scalar_f32();
const KernelTable<double>& kernels_scalar_f64();
#if defined(LEPTON_X86)
const KernelTable<float>& kernels_avx2_f32();
const KernelTable<double>& kernels_avx2_f64();
const KernelTable<float>& kernels_avx512_f32();
const KernelTable<double>& kernels_avx512_f64();
#endif

}  // namespace lepton::pca
