// Host-side checks and facts shared by both preprocessing passes.
#include <algorithm>

#include "cuda/check.cuh"
#include "cuda/preprocess/dispatch.hpp"

namespace lepton::cuda::prep {

int in_itemsize(int in_dtype) {
  switch (in_dtype) {
    case kInFloat16: return 2;
    case kInFloat32: return 4;
    case kInFloat64: return 8;
    default: fail_arg("x: unknown input dtype code ", in_dtype);
  }
}

int out_itemsize(int out_dtype) {
  switch (out_dtype) {
    case kOutFloat32: return 4;
    case kOutFloat64: return 8;
    case kOutFloat16: return 2;
    case kOutInt8: return 1;
    default: fail_arg("out: unknown output dtype code ", out_dtype);
  }
}

int sm_count(int device) {
  int sms = 0;
  LEPTON_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  return sms;
}

bool slow_fp64(int device) {
  int ratio = 0;
  LEPTON_CUDA_CHECK(
      cudaDeviceGetAttribute(&ratio, cudaDevAttrSingleToDoublePrecisionPerfRatio, device));
  return ratio > 2;  // datacenter GPUs (V100, A100, H100/H200): 2; GeForce, L4, L40: 32–64
}

int resolve_config(int config, std::int64_t rows, std::int64_t cols, int itemsize, int device) {
  if (config < 0) return heuristic(rows, cols, itemsize, sm_count(device), slow_fp64(device));
  return config_by_id(config).id;
}

void check_matrix(const Matrix& m, const char* name) {
  LEPTON_CHECK_ARG(m.rows > 0 && m.cols > 0, name, ": expected a non-empty array");
  LEPTON_CHECK_ARG(m.layout == kRowMajor || m.layout == kColumnMajor, name,
                   ": layout must be 0 (row-major) or 1 (column-major)");
  const std::int64_t inner = m.layout == kRowMajor ? m.cols : m.rows;
  LEPTON_CHECK_ARG(m.ld >= inner, name, ": leading dimension ", m.ld, " below ", inner);
  LEPTON_CHECK_ARG(m.ptr != 0, name, ": null device pointer");
}

namespace {

bool aligned(const Matrix& m, int vec, int itemsize) {
  const std::int64_t inner = m.layout == kRowMajor ? m.cols : m.rows;
  const std::int64_t outer = m.layout == kRowMajor ? m.rows : m.cols;
  const bool ld_ok = outer == 1 || m.ld % vec == 0;
  // Row-major vectors cover `vec` columns of a row: cols must split into whole vectors.
  // Column-major vectors cover rows of a column; the last one may be partial (loaded per element).
  const bool inner_ok = m.layout == kColumnMajor || inner % vec == 0;
  return ld_ok && inner_ok && m.ptr % (static_cast<std::uint64_t>(vec) * itemsize) == 0;
}

}  // namespace

int full_vector(int in_dtype, int layout) {
  int vec = 1;
  with_input(in_dtype, [&](auto in) {
    using T = typename decltype(in)::type;
    vec = layout == kRowMajor ? full_vector<T, true>() : full_vector<T, false>();
  });
  return vec;
}

int vector_width(const Matrix& x, const Matrix* out) {
  const int vec = full_vector(x.dtype, x.layout);
  if (!aligned(x, vec, in_itemsize(x.dtype))) return 1;
  if (out != nullptr && !aligned(*out, vec, out_itemsize(out->dtype))) return 1;
  return vec;
}

}  // namespace lepton::cuda::prep
