// lepton._core bindings of the CUDA fused preprocessing (CUDA builds only). The Python layer
// (lepton.ops._preprocess_cuda) allocates every device buffer and passes raw pointers, strides
// and its library's stream.
#include <pybind11/pybind11.h>

#include "bindings/bindings.hpp"
#include "cuda/preprocess/config.hpp"
#include "cuda/preprocess/preprocess_cuda.hpp"

namespace py = pybind11;

namespace lepton {
namespace {

namespace pc = cuda::prep;

pc::Matrix matrix(std::uintptr_t ptr, int dtype, int layout, std::int64_t rows, std::int64_t cols,
                  std::int64_t ld) {
  return pc::Matrix{ptr, dtype, layout, rows, cols, ld};
}

py::dict config_dict(const pc::PrepCudaConfig& c) {
  py::dict d;
  d["id"] = c.id;
  d["name"] = c.name;
  d["threads"] = c.threads;
  d["unroll"] = c.unroll;
  d["chunk_kib"] = c.chunk_kib;
  d["ctas_per_sm"] = c.ctas_per_sm;
  d["sm_div"] = c.sm_div;
  d["apply_order"] = c.apply_backward ? "backward" : "forward";
  d["accumulate"] = c.accumulate == pc::kAccumF32x2 ? "f32x2" : "f64";
  d["printable"] = c.printable();
  return d;
}

py::dict plan_dict(const pc::Plan& p) {
  py::dict d;
  d["layout"] = p.layout;
  d["vec"] = p.vec;
  d["threads"] = p.threads;
  d["unroll"] = p.unroll;
  d["tile_vecs"] = p.tile_vecs;
  d["groups"] = p.groups;
  d["tiles"] = p.tiles;
  d["rows_per_chunk"] = p.rows_per_chunk;
  d["chunks"] = p.chunks;
  d["items"] = p.items;
  d["grid"] = p.grid;
  return d;
}

py::dict plan(int config, std::int64_t rows, std::int64_t cols, int itemsize, int layout, int vec,
              int sm_count) {
  return plan_dict(
      pc::make_plan(pc::config_by_id(config), rows, cols, itemsize, layout, vec, sm_count));
}

int vector_width(std::uintptr_t x, int in_dtype, int layout, std::int64_t rows, std::int64_t cols,
                 std::int64_t ld, std::uintptr_t out, int out_dtype, std::int64_t ld_out) {
  const pc::Matrix xm = matrix(x, in_dtype, layout, rows, cols, ld);
  if (out == 0) return pc::stats_vector_width(xm);
  return pc::apply_vector_width(xm, matrix(out, out_dtype, layout, rows, cols, ld_out));
}

std::int64_t stats_workspace_slots(std::uintptr_t x, int in_dtype, int layout, std::int64_t rows,
                                   std::int64_t cols, std::int64_t ld, int config, int device) {
  return pc::stats_workspace_slots(matrix(x, in_dtype, layout, rows, cols, ld), config, device);
}

void column_stats(std::uintptr_t x, int in_dtype, int layout, std::int64_t rows, std::int64_t cols,
                  std::int64_t ld, std::uintptr_t workspace, std::int64_t slots,
                  std::uintptr_t result, int config, int device, std::uintptr_t stream) {
  const pc::Matrix xm = matrix(x, in_dtype, layout, rows, cols, ld);
  py::gil_scoped_release release;
  pc::column_stats(xm, workspace, slots, result, config, device, stream);
}

void apply(std::uintptr_t x, int in_dtype, int layout, std::int64_t rows, std::int64_t cols,
           std::int64_t ld, std::uintptr_t out, int out_dtype, std::int64_t ld_out,
           std::uintptr_t coefs, bool replace_inf, int config, int device, std::uintptr_t stream) {
  const pc::Matrix xm = matrix(x, in_dtype, layout, rows, cols, ld);
  const pc::Matrix om = matrix(out, out_dtype, layout, rows, cols, ld_out);
  py::gil_scoped_release release;
  pc::apply(xm, om, coefs, replace_inf, config, device, stream);
}

}  // namespace

void register_preprocess_cuda(py::module_& m) {
  m.def("preprocess_cuda_configs", [] {
    py::list out;
    for (const auto& c : pc::config_table()) out.append(config_dict(c));
    return out;
  }, "The CUDA fused preprocessing configuration table (list of dicts with a stable int 'id').");
  m.def("preprocess_cuda_config_hash", &pc::config_table_hash);
  m.def("prep_cuda_heuristic", &pc::heuristic, py::arg("rows"), py::arg("cols"),
        py::arg("itemsize"), py::arg("sm_count"), py::arg("slow_fp64") = false,
        "The default config id for a shape on a GPU with sm_count SMs, slow_fp64 when its "
        "FP64 rate is below half its FP32 (no device used).");
  m.def("prep_cuda_resolve_config", &pc::resolve_config, py::arg("config"), py::arg("rows"),
        py::arg("cols"), py::arg("itemsize"), py::arg("device"),
        "config checked (ValueError if unknown), or the heuristic's id for config < 0.");
  m.def("prep_cuda_plan", &plan, py::arg("config"), py::arg("rows"), py::arg("cols"),
        py::arg("itemsize"), py::arg("layout"), py::arg("vec"), py::arg("sm_count"),
        "The work decomposition both kernels use (no device used; for tests and models).");
  m.def("prep_cuda_vector_width", &vector_width, py::arg("x"), py::arg("in_dtype"),
        py::arg("layout"), py::arg("rows"), py::arg("cols"), py::arg("ld"), py::arg("out") = 0,
        py::arg("out_dtype") = 0, py::arg("ld_out") = 0,
        "Elements per vector access the kernels use for these pointers (no device used).");
  m.def("prep_cuda_stats_workspace_slots", &stats_workspace_slots, py::arg("x"),
        py::arg("in_dtype"), py::arg("layout"), py::arg("rows"), py::arg("cols"), py::arg("ld"),
        py::arg("config"), py::arg("device"));
  m.def("prep_cuda_column_stats", &column_stats, py::arg("x"), py::arg("in_dtype"),
        py::arg("layout"), py::arg("rows"), py::arg("cols"), py::arg("ld"), py::arg("workspace"),
        py::arg("workspace_slots"), py::arg("result"), py::arg("config"), py::arg("device"),
        py::arg("stream"));
  m.def("prep_cuda_apply", &apply, py::arg("x"), py::arg("in_dtype"), py::arg("layout"),
        py::arg("rows"), py::arg("cols"), py::arg("ld"), py::arg("out"), py::arg("out_dtype"),
        py::arg("ld_out"), py::arg("coefs"), py::arg("replace_inf"), py::arg("config"),
        py::arg("device"), py::arg("stream"));
}

}  // namespace lepton
