// Python bindings of the CUDA centred-Gram kernels (CUDA builds only). Raw device pointers and a
// stream: the Python layer (lepton/ops/_pca_cuda.py) validates, allocates and reads the NaN flag.
#include "bindings/bindings.hpp"
#include "cuda/pca/gram_cuda.hpp"

namespace py = pybind11;

namespace lepton {
namespace {

namespace p = cuda::pca;

py::dict plan_dict(long long n, long long d, int sm_count) {
  const p::GramPlan plan = p::gram_plan(n, d, sm_count);
  py::dict out;
  out["tiles"] = plan.tiles;
  out["chunks"] = plan.chunks;
  out["chunk_rows"] = plan.chunk_rows;
  out["sum_chunks"] = plan.sum_chunks;
  out["sum_rows"] = plan.sum_rows;
  out["workspace"] = plan.workspace;
  return out;
}

void centred_gram(std::uintptr_t x, int dtype, long long n, long long d, long long row_stride,
                  long long col_stride, std::uintptr_t mean, std::uintptr_t gram,
                  std::uintptr_t workspace, long long workspace_elems, std::uintptr_t flag,
                  int device, std::uintptr_t stream, int engine) {
  py::gil_scoped_release release;
  p::centred_gram(x, dtype, n, d, row_stride, col_stride, mean, gram, workspace, workspace_elems,
                  flag, device, stream, engine);
}

}  // namespace

void register_pca_cuda(py::module_& m) {
  m.def("gram_cuda_workspace_elems", &p::gram_workspace_elems, py::arg("n"), py::arg("d"),
        py::arg("device"), "float64 elements of workspace centred_gram_cuda needs.");
  m.def("gram_cuda_plan", &plan_dict, py::arg("n"), py::arg("d"), py::arg("sm_count"),
        "How centred_gram_cuda splits a shape on a device with sm_count SMs (no device used).");
  m.def("centred_gram_cuda", &centred_gram, py::arg("x"), py::arg("dtype"), py::arg("n"),
        py::arg("d"), py::arg("row_stride"), py::arg("col_stride"), py::arg("mean"),
        py::arg("gram"), py::arg("workspace"), py::arg("workspace_elems"), py::arg("flag"),
        py::arg("device"), py::arg("stream"), py::arg("engine") = 0,
        "engine: 0 = simt (FP32/FP64 FMA), 1 = tf32x3 (tensor cores).");
  m.def("gram_cuda_check_engine", &p::check_engine, py::arg("engine"), py::arg("dtype"),
        "ValueError unless the Gram engine takes this dtype code (no device used).");
}

}  // namespace lepton
