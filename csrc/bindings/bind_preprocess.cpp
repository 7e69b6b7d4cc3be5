// lepton._core bindings of the fused preprocessing. The Python layer (lepton.ops.preprocess)
// validates and plans; these entry points re-check what memory safety depends on (dtype, shape,
// layout, writability) so that no call can crash the interpreter.
#include <pybind11/numpy.h>

#include <string>

#include "bindings/bindings.hpp"
#include "common/errors.hpp"
#include "common/isa.hpp"
#include "cpu/preprocess/preprocess.hpp"

namespace py = pybind11;

namespace lepton {
namespace {

using prep::Layout;
using prep::OutKind;

// dtype == comparison (not identity): a native-order dtype made by newbyteorder("=") is equal to
// float64 without being the same object.
bool is_float32(const py::array& a) { return a.dtype().equal(py::dtype::of<float>()); }
bool is_float64(const py::array& a) { return a.dtype().equal(py::dtype::of<double>()); }

Layout layout_of(const py::array& a, const char* name) {
  LEPTON_CHECK_ARG(a.ndim() == 2, name, ": expected a 2-D array, got ", a.ndim(), "-D");
  if (a.flags() & py::array::c_style) return Layout::row_major;
  if (a.flags() & py::array::f_style) return Layout::column_major;
  fail_arg(name, ": expected a C- or Fortran-contiguous array");
}

void check_input(const py::array& x) {
  LEPTON_CHECK_ARG(is_float32(x) || is_float64(x), "x: expected dtype float32 or float64, got ",
                   std::string(py::str(x.dtype())));
  LEPTON_CHECK_ARG(x.size() > 0, "x: expected a non-empty array");
}

py::array_t<double> to_numpy(const std::vector<double>& v) {
  py::array_t<double> a(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

py::tuple column_stats(const py::array& x, int config) {
  check_input(x);
  const prep::PrepConfig& cfg = prep::config_by_id(config);
  const Layout layout = layout_of(x, "x");
  const auto rows = static_cast<std::int64_t>(x.shape(0));
  const auto cols = static_cast<std::int64_t>(x.shape(1));
  const bool f32 = is_float32(x);
  prep::ColumnMoments m;
  {
    py::gil_scoped_release release;  // no Python API below this line
    if (f32)
      m = prep::column_moments(static_cast<const float*>(x.data()), rows, cols, layout, cfg);
    else
      m = prep::column_moments(static_cast<const double*>(x.data()), rows, cols, layout, cfg);
  }
  return py::make_tuple(to_numpy(m.count), to_numpy(m.mean), to_numpy(m.m2), to_numpy(m.min),
                        to_numpy(m.max));
}

OutKind out_kind(const py::array& out) {
  const py::dtype dt = out.dtype();
  if (dt.equal(py::dtype::of<float>())) return OutKind::f32;
  if (dt.equal(py::dtype::of<double>())) return OutKind::f64;
  if (dt.equal(py::dtype("float16"))) return OutKind::f16;
  if (dt.equal(py::dtype::of<std::int8_t>())) return OutKind::i8;
  fail_arg("out: expected dtype float32, float64, float16 or int8, got ", std::string(py::str(dt)));
}

const double* coef(const py::array& a, const char* name, std::int64_t cols) {
  LEPTON_CHECK_ARG(is_float64(a) && a.ndim() == 1 && (a.flags() & py::array::c_style), name,
                   ": expected a contiguous 1-D float64 array");
  LEPTON_CHECK_ARG(a.shape(0) == cols, name, ": expected length ", cols, ", got ", a.shape(0));
  return static_cast<const double*>(a.data());
}

void apply(const py::array& x, py::array& out, const py::array& fill, const py::array& lo,
           const py::array& hi, const py::array& center, const py::array& mul, bool replace_inf,
           int stream, int config) {
  check_input(x);
  const prep::PrepConfig& cfg = prep::config_by_id(config);
  const Layout layout = layout_of(x, "x");
  const OutKind kind = out_kind(out);
  LEPTON_CHECK_ARG(out.writeable(), "out: array is read-only");
  LEPTON_CHECK_ARG(out.ndim() == 2 && out.shape(0) == x.shape(0) && out.shape(1) == x.shape(1),
                   "out: expected the shape of x");
  LEPTON_CHECK_ARG(layout == Layout::row_major ? (out.flags() & py::array::c_style) != 0
                                               : (out.flags() & py::array::f_style) != 0,
                   "out: expected the memory layout of x");
  LEPTON_CHECK_ARG(stream >= 0 && stream <= 2, "stream: expected 0 (off), 1 (on) or 2 (auto)");
  const auto rows = static_cast<std::int64_t>(x.shape(0));
  const auto cols = static_cast<std::int64_t>(x.shape(1));
  const prep::ColumnCoefs c{coef(fill, "fill", cols),     coef(lo, "lo", cols),
                            coef(hi, "hi", cols),         coef(center, "center", cols),
                            coef(mul, "mul", cols),       replace_inf};
  void* o = out.mutable_data();
  const auto mode = static_cast<prep::StreamMode>(stream);
  const bool f32 = is_float32(x);
  py::gil_scoped_release release;  // no Python API below this line
  if (f32)
    prep::apply_columns(static_cast<const float*>(x.data()), o, kind, rows, cols, layout, c, mode,
                        cfg);
  else
    prep::apply_columns(static_cast<const double*>(x.data()), o, kind, rows, cols, layout, c, mode,
                        cfg);
}

py::dict config_dict(const prep::PrepConfig& c) {
  py::dict d;
  d["id"] = c.id;
  d["name"] = c.name;
  d["item_kib"] = c.item_kib;
  d["stream_min_mib"] = c.stream_min_mib;
  d["max_threads"] = c.max_threads;
  d["apply_order"] = c.apply_forward ? "forward" : "backward";
  d["printable"] = c.printable();
  return d;
}

}  // namespace

void register_preprocess(py::module_& m) {
  m.def("prep_column_stats", &column_stats, py::arg("x"), py::arg("config") = -1,
        "Per-column (count, mean, m2, min, max) of the finite values of a 2-D float array, "
        "as float64 arrays (config: a preprocess config id, -1 the default). "
        "Use lepton.ops.column_stats.");
  m.def("prep_apply", &apply, py::arg("x"), py::arg("out"), py::arg("fill"), py::arg("lo"),
        py::arg("hi"), py::arg("center"), py::arg("mul"), py::arg("replace_inf"),
        py::arg("stream") = 2, py::arg("config") = -1,
        "out = (clip(replace(x), lo, hi) - center) * mul, converted to out's dtype. stream: 0 "
        "plain stores, 1 non-temporal, 2 as the config says (config: a preprocess config id, -1 "
        "the default). Use lepton.ops.preprocess.");
  m.def("preprocess_configs", [] {
    py::list out;
    for (const prep::PrepConfig& c : prep::config_table()) out.append(config_dict(c));
    return out;
  }, "The fused preprocessing configuration table (list of dicts with a stable int 'id').");
  m.def("preprocess_config_hash", &prep::config_table_hash,
        "fnv1a64 of the printable preprocessing configuration table, as 16 hex digits.");
  m.def("prep_kernel_isa", [] { return std::string(prep::kernel_table(active_isa()).isa); },
        "Kernel set the preprocessing uses under the current ISA cap.");
}

}  // namespace lepton
