// Python bindings of the CUDA device facts: devices, the toolchain probe kernel, pointer
// ownership and cross-stream ordering (CUDA builds only; the kernels' areas have their own
// bind_<area>_cuda.cpp).
#include <pybind11/stl.h>

#include "bindings/bindings.hpp"
#include "cuda/probe.hpp"
#include "cuda/stream_wait.hpp"

namespace py = pybind11;

namespace lepton {
namespace {

py::dict device_info(int index) {
  const auto d = cuda::device_info(index);
  py::dict out;
  out["index"] = d.index;
  out["name"] = d.name;
  out["capability"] = py::make_tuple(d.major, d.minor);
  out["sm_count"] = d.sm_count;
  out["total_memory"] = d.total_memory;
  return out;
}

}  // namespace

void register_cuda(py::module_& m) {
  m.attr("cuda_architectures") = cuda::compiled_architectures();
  m.def("cuda_device_count", &cuda::device_count);
  m.def("cuda_device_info", &device_info, py::arg("index"));
  m.def("cuda_probe", &cuda::run_probe, py::arg("device") = 0, py::arg("n") = 1 << 20,
        "Run a toolchain-proof axpy kernel; returns its max abs error against the host.");
  m.def("cuda_pointer_device", &cuda::pointer_device, py::arg("ptr"),
        "The device index owning a device pointer (for __cuda_array_interface__ objects).");
  m.def("cuda_stream_wait", &cuda::stream_wait, py::arg("device"), py::arg("waiter"),
        py::arg("producer"), "Order stream `waiter` after the current work of `producer`.");
}

}  // namespace lepton
