// Python bindings of the PCA kernels: centred Gram and per-column moments of a float32/float64
// matrix. The GIL is released while the kernels run; results are float64 numpy arrays that own
// the kernel's buffers (no copy on the way out).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "bindings/bindings.hpp"
#include "common/errors.hpp"
#include "cpu/pca/gram.hpp"

namespace py = pybind11;

namespace lepton {
namespace {

py::array_t<double> to_numpy(std::vector<double>&& v, std::vector<py::ssize_t> shape) {
  auto* owned = new std::vector<double>(std::move(v));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<double>*>(p); });
  return py::array_t<double>(shape, owned->data(), free_when_done);
}

// The Python layer validates first; these checks only keep a direct _core call from crashing.
void check_matrix(const py::array& x) {
  LEPTON_CHECK_ARG(x.ndim() == 2, "X: expected a 2-D array, got ", x.ndim(), "-D");
  LEPTON_CHECK_ARG(x.shape(0) >= 1 && x.shape(1) >= 1, "X: expected a non-empty array, got shape (",
                   x.shape(0), ", ", x.shape(1), ")");
  LEPTON_CHECK_ARG((x.flags() & py::array::c_style) != 0, "X: expected a C-contiguous array");
}

template <class Fn>
auto dispatch_dtype(const py::array& x, Fn fn) {
  check_matrix(x);
  const auto n = static_cast<std::int64_t>(x.shape(0)), d = static_cast<std::int64_t>(x.shape(1));
  if (py::isinstance<py::array_t<float>>(x)) {
    const auto* p = static_cast<const float*>(x.data());
    py::gil_scoped_release release;
    return fn(p, n, d);
  }
  if (py::isinstance<py::array_t<double>>(x)) {
    const auto* p = static_cast<const double*>(x.data());
    py::gil_scoped_release release;
    return fn(p, n, d);
  }
  fail_arg("X: expected dtype float32 or float64, got ", std::string(py::str(x.dtype())));
}

py::tuple gram_py(const py::array& x) {
  pca::GramResult r = dispatch_dtype(
      x, [](const auto* p, std::int64_t n, std::int64_t d) { return pca::centred_gram(p, n, d); });
  const auto d = static_cast<py::ssize_t>(r.mean.size());
  return py::make_tuple(r.n, to_numpy(std::move(r.mean), {d}), to_numpy(std::move(r.gram), {d, d}),
                        r.finite);
}

py::tuple moments_py(const py::array& x) {
  pca::MomentsResult r = dispatch_dtype(x, [](const auto* p, std::int64_t n, std::int64_t d) {
    return pca::column_moments(p, n, d);
  });
  const auto d = static_cast<py::ssize_t>(r.mean.size());
  return py::make_tuple(r.n, to_numpy(std::move(r.mean), {d}), to_numpy(std::move(r.m2), {d}),
                        r.finite);
}

}  // namespace

void register_pca(py::module_& m) {
  m.def("centred_gram", &gram_py, py::arg("x"),
        "(n, mean, gram, finite) of a C-contiguous float32/float64 matrix: gram is "
        "sum_i (x_i - mean)(x_i - mean)^T in float64.");
  m.def("column_moments", &moments_py, py::arg("x"),
        "(n, mean, m2, finite): per-column mean and sum of squared deviations, in float64.");
  m.def("gram_variant", [](bool is_double) { return std::string(pca::gram_variant(is_double)); },
        py::arg("is_double"), "Kernel variant (ISA) the Gram pass uses now for the dtype.");
  m.attr("gram_block_rows") = pca::kBlockRows;
}

}  // namespace lepton
