// Host helpers of the preprocessing launchers: argument checks, vector widths, and the
// run-time -> compile-time dispatch over input dtype, vector width and unroll.
#pragma once
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

#include "common/errors.hpp"
#include "cuda/preprocess/config.hpp"
#include "cuda/preprocess/preprocess_cuda.hpp"

namespace lepton::cuda::prep {

template <class T>
struct TypeTag {
  using type = T;
};

constexpr int kVectorBytes = 16;
constexpr int kMaxThreads = 512;  // the table's largest block (kernels are launch-bounded by it)

// Elements per vector access: 16 bytes, except that a row-major thread keeps one set of
// accumulators per element of its vector, so row-major float16 takes 4 (8 bytes) to stay within
// the 128 registers a 512-thread block allows (8 measured 178 registers).
template <class T, bool kRows>
constexpr int full_vector() {
  constexpr int bytes16 = kVectorBytes / static_cast<int>(sizeof(T));
  return kRows && bytes16 > 4 ? 4 : bytes16;
}
int full_vector(int in_dtype, int layout);

// The SM count of `device` (cached per device by the runtime; a cheap attribute query).
int sm_count(int device);
// Whether `device`'s FP64 throughput is below half its FP32 (the heuristic's f32x2 cue).
bool slow_fp64(int device);

// Checks what memory safety depends on: positive shape, leading dimension covering a row
// (row-major) or a column (column-major), a known dtype and layout, a non-null pointer.
void check_matrix(const Matrix& m, const char* name);

// full_vector() when x (and out, when given, with its own element size) allow aligned
// vector accesses of that many elements everywhere the kernels make them; else 1.
int vector_width(const Matrix& x, const Matrix* out);

template <class F>
void with_input(int dtype, F&& f) {
  switch (dtype) {
    case kInFloat16: return f(TypeTag<__half>{});
    case kInFloat32: return f(TypeTag<float>{});
    case kInFloat64: return f(TypeTag<double>{});
    default: fail_arg("x: unknown input dtype code ", dtype);
  }
}

template <class F>
void with_layout(int layout, F&& f) {
  if (layout == kRowMajor) return f(std::true_type{});
  return f(std::false_type{});
}

template <class T, bool kRows, class F>
void with_vector(int vec, F&& f) {
  constexpr int kFull = full_vector<T, kRows>();
  if (vec == kFull) return f(std::integral_constant<int, kFull>{});
  if (vec == 1) return f(std::integral_constant<int, 1>{});
  fail_arg("vec: expected 1 or ", kFull, ", got ", vec);
}

template <class F>
void with_unroll(int unroll, F&& f) {
  switch (unroll) {
    case 4: return f(std::integral_constant<int, 4>{});
    case 8: return f(std::integral_constant<int, 8>{});
    default: fail_arg("config: unroll ", unroll, " has no compiled kernel (4 or 8)");
  }
}

// The kernel a plan runs on x: f(TypeTag<T>, bool_constant<row-major>, int_constant<vector
// width>, int_constant<unroll>), the compile-time parameters both passes are templated on.
template <class F>
void with_kernel_shape(const Matrix& x, const Plan& p, F&& f) {
  with_input(x.dtype, [&](auto in) {
    using T = typename decltype(in)::type;
    with_layout(x.layout, [&](auto rows_major) {
      constexpr bool kRows = decltype(rows_major)::value;
      with_vector<T, kRows>(p.vec, [&](auto vec) {
        with_unroll(p.unroll, [&](auto unroll) { f(in, rows_major, vec, unroll); });
      });
    });
  });
}

}  // namespace lepton::cuda::prep
