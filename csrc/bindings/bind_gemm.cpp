// Python bindings of the CPU int8 GEMM. Arrays arrive validated and C-contiguous from
// lepton.ops.gemm / lepton.ops.quant (noconvert: a wrong array here is a bug, not a copy).
// Every kernel call releases the GIL.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "bindings/bindings.hpp"
#include "common/errors.hpp"
#include "common/gemm_limits.hpp"
#include "cpu/gemm/config.hpp"
#include "cpu/gemm/dispatch.hpp"

namespace py = pybind11;

namespace lepton {
namespace {

using gemm::Activation;
using gemm::ASource;
using gemm::OutType;
using I8 = py::array_t<std::int8_t, py::array::c_style>;
using F32 = py::array_t<float, py::array::c_style>;

Activation activation_from(const std::optional<std::string>& name) {
  if (!name) return Activation::none;
  if (*name == "relu") return Activation::relu;
  if (*name == "gelu") return Activation::gelu;
  if (*name == "sigmoid") return Activation::sigmoid;
  fail_arg("activation: expected None, 'relu', 'gelu' or 'sigmoid', got '", *name, "'");
}

OutType out_type_from(const std::string& name) {
  if (name == "int32") return OutType::i32;
  if (name == "float32") return OutType::f32;
  if (name == "float16") return OutType::f16;
  if (name == "int8") return OutType::i8;
  fail_arg("out_dtype: expected int32, float32, float16 or int8, got ", name);
}

const float* data_or_null(const std::optional<F32>& v) { return v ? v->data() : nullptr; }

// A float array of rows: its kind, rows and row length.
struct FloatRows {
  const void* data;
  ASource kind;
  std::int64_t rows, K;
};

// equal(), not is(): a dtype read back by pickle/joblib is an equal but distinct object.
FloatRows float_rows(const py::array& x, const char* name) {
  LEPTON_CHECK_ARG(x.ndim() == 2, name, ": expected a 2-D array, got ", x.ndim(), "-D");
  LEPTON_CHECK_ARG(x.flags() & py::array::c_style, name, ": expected a C-contiguous array");
  ASource kind;
  if (x.dtype().equal(py::dtype::of<float>()))
    kind = ASource::f32;
  else if (x.dtype().equal(py::dtype::of<double>()))
    kind = ASource::f64;
  else
    throw py::type_error(std::string(name) + ": expected float32 or float64");
  return {x.data(), kind, x.shape(0), x.shape(1)};
}

// Weights packed for one kernel family. `weights` may be swapped for a repacked copy when the
// ISA cap changes (see linear_int8); calls hold their own shared_ptr while they run.
struct PackedHandle {
  std::shared_ptr<const gemm::PackedWeights> weights;
};

py::dict config_dict(const gemm::GemmConfig& c) {
  py::dict d;
  d["id"] = c.id;
  d["name"] = c.name;
  d["mc"] = c.mc;
  d["nc"] = c.nc;
  d["kc"] = c.kc;
  d["split"] = gemm::split_name(c.split);
  d["k_split"] = c.k_split;
  d["max_threads"] = c.max_threads;
  d["printable"] = c.printable();
  return d;
}

py::array int8_gemm(const I8& a, const I8& b, const std::optional<F32>& a_scale,
                    const std::optional<F32>& b_scale, const std::optional<F32>& bias,
                    const std::optional<std::string>& activation, const std::string& out_dtype,
                    float out_scale, int config) {
  LEPTON_CHECK_ARG(a.ndim() == 2 && b.ndim() == 2, "a, b: expected 2-D arrays");
  const std::int64_t M = a.shape(0), K = a.shape(1), N = b.shape(0);
  LEPTON_CHECK_ARG(b.shape(1) == K, "b: expected K=", K, " columns, got ", b.shape(1));
  gemm::EpilogueArgs epi;
  epi.a_scale = data_or_null(a_scale);
  epi.b_scale = data_or_null(b_scale);
  epi.bias = data_or_null(bias);
  epi.act = activation_from(activation);
  epi.out = out_type_from(out_dtype);
  epi.out_scale = out_scale;
  LEPTON_CHECK_ARG(!a_scale || a_scale->size() == M, "a_scale: expected length ", M);
  LEPTON_CHECK_ARG(!b_scale || b_scale->size() == N, "b_scale: expected length ", N);
  LEPTON_CHECK_ARG(!bias || bias->size() == N, "bias: expected length ", N);
  const bool plain = !a_scale && !b_scale && !bias && epi.act == Activation::none;
  LEPTON_CHECK_ARG(epi.out != OutType::i32 || plain,
                   "out_dtype: int32 output cannot carry scales, bias or an activation");
  py::array out(py::dtype::from_args(py::str(out_dtype)), {M, N});
  void* out_ptr = out.mutable_data();
  {
    py::gil_scoped_release release;
    gemm::int8_gemm(a.data(), b.data(), M, N, K, epi, out_ptr, config);
  }
  return out;
}

std::pair<I8, F32> quantize_rows(const py::array& x) {
  const FloatRows r = float_rows(x, "x");
  I8 q({r.rows, r.K});
  F32 scale(r.rows);
  std::int8_t* q_ptr = q.mutable_data();
  float* s_ptr = scale.mutable_data();
  {
    py::gil_scoped_release release;
    gemm::quantize_rows(r.data, r.kind, r.rows, r.K, q_ptr, s_ptr);
  }
  return {q, scale};
}

// An optional per-column coefficient array of linear_int8: (K), C-contiguous, x's dtype.
const void* column_coefs(const std::optional<py::array>& v, const py::array& x, std::int64_t K,
                         const char* name) {
  if (!v) return nullptr;
  LEPTON_CHECK_ARG(v->ndim() == 1 && v->shape(0) == K, name, ": expected a (", K,
                   ",) array (one entry per column of x), got ", v->ndim(), "-D of size ",
                   v->size());
  LEPTON_CHECK_ARG(v->flags() & py::array::c_style, name, ": expected a C-contiguous array");
  if (!v->dtype().equal(x.dtype()))
    throw py::type_error(std::string(name) + ": expected x's dtype");
  return v->data();
}

std::pair<py::array, F32> linear_int8(const py::array& x, PackedHandle& w,
                                      const std::optional<std::string>& activation,
                                      const std::string& out_dtype, float out_scale, int config,
                                      const std::optional<py::array>& col_center,
                                      const std::optional<py::array>& col_mul) {
  const FloatRows r = float_rows(x, "x");
  std::shared_ptr<const gemm::PackedWeights> weights = w.weights;
  LEPTON_CHECK_ARG(r.K == weights->K(), "x: expected ", weights->K(), " columns (the weights' K), got ",
                   r.K);
  const void* center = column_coefs(col_center, x, r.K, "col_center");
  const void* mul = column_coefs(col_mul, x, r.K, "col_mul");  // both or neither: gemm:: checks
  const Activation act = activation_from(activation);
  const OutType out_type = out_type_from(out_dtype);
  if (weights->layout().isa != active_isa()) {
    // The ISA cap changed since packing: repack for the active kernel and keep that layout.
    {
      py::gil_scoped_release release;
      weights = gemm::for_active_isa(weights);
    }
    w.weights = weights;
  }
  py::array out(py::dtype::from_args(py::str(out_dtype)), {r.rows, weights->N()});
  F32 x_scale(r.rows);
  void* out_ptr = out.mutable_data();
  float* s_ptr = x_scale.mutable_data();
  {
    py::gil_scoped_release release;
    gemm::linear_int8(r.data, r.kind, r.rows, *weights, act, out_type, out_scale, out_ptr, s_ptr,
                      config, center, mul);
  }
  return {out, x_scale};
}

PackedHandle pack_weights(const I8& w, const std::optional<F32>& w_scale,
                          const std::optional<F32>& bias) {
  LEPTON_CHECK_ARG(w.ndim() == 2, "w_q: expected a 2-D array");
  const std::int64_t N = w.shape(0), K = w.shape(1);
  LEPTON_CHECK_ARG(!w_scale || w_scale->size() == N, "w_scale: expected length ", N);
  LEPTON_CHECK_ARG(!bias || bias->size() == N, "bias: expected length ", N);
  PackedHandle h;
  const float* s = data_or_null(w_scale);
  const float* b = data_or_null(bias);
  {
    py::gil_scoped_release release;
    h.weights = gemm::pack_weights(w.data(), N, K, s, b);
  }
  return h;
}

}  // namespace

void register_gemm(py::module_& m) {
  m.attr("gemm_max_k") = kGemmMaxK;
  m.def("gemm_configs", [] {
    py::list out;
    for (const gemm::GemmConfig& c : gemm::config_table()) out.append(config_dict(c));
    return out;
  }, "The int8 GEMM configuration table (list of dicts with a stable int 'id').");
  m.def("gemm_config_hash", &gemm::config_table_hash,
        "fnv1a64 of the printable int8 GEMM configuration table, as 16 hex digits.");
  m.def("gemm_heuristic_config", [](std::int64_t M, std::int64_t N, std::int64_t K, int threads) {
    return gemm::heuristic_config(M, N, K, threads).id;
  }, py::arg("M"), py::arg("N"), py::arg("K"), py::arg("threads"));
  m.def("int8_gemm", &int8_gemm, py::arg("a").noconvert(), py::arg("b").noconvert(),
        py::arg("a_scale").noconvert(), py::arg("b_scale").noconvert(),
        py::arg("bias").noconvert(), py::arg("activation"), py::arg("out_dtype"),
        py::arg("out_scale"), py::arg("config"),
        "out_scale: the int8 output's step (ignored for other dtypes).");
  m.def("quantize_rows", &quantize_rows, py::arg("x"),
        "Per-row symmetric int8 quantization of a C-contiguous float32/float64 (rows, K) array.");
  py::class_<PackedHandle>(m, "PackedWeights")
      .def_property_readonly("n", [](const PackedHandle& h) { return h.weights->N(); })
      .def_property_readonly("k", [](const PackedHandle& h) { return h.weights->K(); })
      .def_property_readonly("isa", [](const PackedHandle& h) {
        return std::string(isa_name(h.weights->layout().isa));
      })
      .def_property_readonly("nbytes", [](const PackedHandle& h) { return h.weights->nbytes(); });
  m.def("pack_weights", &pack_weights, py::arg("w").noconvert(), py::arg("w_scale").noconvert(),
        py::arg("bias").noconvert());
  m.def("linear_int8", &linear_int8, py::arg("x"), py::arg("w"), py::arg("activation"),
        py::arg("out_dtype"), py::arg("out_scale"), py::arg("config"),
        py::arg("col_center").noconvert() = py::none(), py::arg("col_mul").noconvert() = py::none(),
        "col_center, col_mul: optional (K) arrays in x's dtype; the rows quantized are then "
        "(x - col_center) * col_mul, computed in x's precision.");
}

}  // namespace lepton
