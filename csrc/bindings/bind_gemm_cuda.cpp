// Python bindings of the CUDA int8 GEMM and row quantization (CUDA builds only). The Python
// layer (lepton.ops._gemm_cuda, _quant_cuda) validates, allocates every device buffer and
// passes raw pointers, strides and its library's stream; a kernel call releases the GIL.
#include <pybind11/stl.h>

#include "bindings/bindings.hpp"
#include "cuda/gemm/config.hpp"
#include "cuda/gemm/gemm_cuda.hpp"
#include "cuda/quant/quant_cuda.hpp"

namespace py = pybind11;

namespace lepton {
namespace {

namespace g = cuda::gemm;
namespace q = cuda::quant;

py::dict config_dict(const g::GemmCudaConfig& c) {
  py::dict d;
  d["id"] = c.id;
  d["name"] = g::config_name(c);
  d["kernel"] = g::kernel_name(c);
  d["split_k"] = c.split_k;
  d["cta_cap_div"] = c.cta_cap_div;  // 0: no cap; d: at most sm_count / d CTAs
  if (c.engine == g::Engine::kMma) {
    const auto& t = g::tile_info(c.tile());
    d["engine"] = "mma_s8";
    d["tile_m"] = t.bm;
    d["tile_n"] = t.bn;
    d["tile_k"] = g::kBlockK;
    d["warps_m"] = t.warps_m;
    d["warps_n"] = t.warps_n;
    d["stages"] = t.stages;
    d["smem_bytes"] = t.smem_bytes();
    d["schedule"] = "multistage";
    d["cluster"] = py::make_tuple(1, 1);
  } else {
    const auto& w = g::wg_info(c.wg());
    d["engine"] = "wgmma_s8";
    d["tile_m"] = w.bm;
    d["tile_n"] = w.bn;
    d["tile_k"] = w.bk;
    d["schedule"] = w.cooperative ? "cooperative" : "pingpong";
    d["cluster"] = py::make_tuple(w.cluster_m, w.cluster_n);
    d["stages"] = py::none();  // CUTLASS's StageCountAutoCarveout decides
    d["smem_bytes"] = py::none();
  }
  // false: not compiled into this build (LEPTON_CUDA_CONFIGS=minimal, or no CUTLASS/sm_90a)
  d["built"] = g::config_built(c);
  return d;
}

int heuristic(int m, int n, int k, int sm_count, int smem_per_block, int out_dtype,
              int capability) {
  return g::heuristic(m, n, k, out_dtype, {sm_count, smem_per_block, capability});
}

void int8_gemm_cuda(std::uintptr_t a, long long lda, std::uintptr_t b, long long ldb, int m,
                    int n, int k, std::uintptr_t out, int out_dtype, std::uintptr_t a_scale,
                    std::uintptr_t b_scale, std::uintptr_t bias, int activation, float out_scale,
                    std::uintptr_t workspace, long long workspace_size, int config, int device,
                    std::uintptr_t stream) {
  g::GemmCall call{};  // by name: the field order is not the argument order
  call.a = a;
  call.lda = lda;
  call.b = b;
  call.ldb = ldb;
  call.m = m;
  call.n = n;
  call.k = k;
  call.out = out;
  call.out_dtype = out_dtype;
  call.a_scale = a_scale;
  call.b_scale = b_scale;
  call.bias = bias;
  call.activation = activation;
  call.out_scale = out_scale;
  call.workspace = workspace;
  call.workspace_size = workspace_size;
  call.config = config;
  call.device = device;
  call.stream = stream;
  py::gil_scoped_release release;
  g::int8_gemm(call);
}

void quantize_rows_cuda(std::uintptr_t x, int in_dtype, long long ld_x, int rows, int cols,
                        std::uintptr_t out, long long ld_q, std::uintptr_t scale,
                        std::uintptr_t flag, int device, std::uintptr_t stream) {
  py::gil_scoped_release release;
  q::quantize_rows(x, in_dtype, ld_x, rows, cols, out, ld_q, scale, flag, device, stream);
}

void dequantize_rows_cuda(std::uintptr_t qp, int rows, int cols, std::uintptr_t scale,
                          std::uintptr_t out, int device, std::uintptr_t stream) {
  py::gil_scoped_release release;
  q::dequantize_rows(qp, rows, cols, scale, out, device, stream);
}

}  // namespace

void register_gemm_cuda(py::module_& m) {
  m.def("gemm_cuda_configs", [] {
    py::list out;
    for (const auto& c : g::config_table()) out.append(config_dict(c));
    return out;
  });
  m.def("gemm_cuda_config_hash", &g::config_table_hash);
  m.def("gemm_cuda_resolve_config", &g::resolve_config, py::arg("config"), py::arg("m"),
        py::arg("n"), py::arg("k"), py::arg("out_dtype"), py::arg("device"),
        "The config id to run (config < 0: the heuristic); ValueError if it cannot run.");
  m.def("gemm_cuda_heuristic", &heuristic, py::arg("m"), py::arg("n"), py::arg("k"),
        py::arg("sm_count"), py::arg("smem_per_block"), py::arg("out_dtype") = 0,
        py::arg("capability") = 80,
        "The heuristic's config id for a shape on a device with these facts (no device used).");
  m.attr("cuda_configs_build") = g::configs_build();
  m.attr("cuda_wgmma_build") = g::wgmma_status();
  m.def("gemm_cuda_workspace_elems", &g::workspace_elems, py::arg("config"), py::arg("m"),
        py::arg("n"), py::arg("k"), py::arg("out_dtype"), py::arg("device"));
  m.def("int8_gemm_cuda", &int8_gemm_cuda, py::arg("a"), py::arg("lda"), py::arg("b"),
        py::arg("ldb"), py::arg("m"), py::arg("n"), py::arg("k"), py::arg("out"),
        py::arg("out_dtype"), py::arg("a_scale"), py::arg("b_scale"), py::arg("bias"),
        py::arg("activation"), py::arg("out_scale"), py::arg("workspace"),
        py::arg("workspace_size"), py::arg("config"), py::arg("device"), py::arg("stream"));
  m.def("quantize_rows_cuda", &quantize_rows_cuda, py::arg("x"), py::arg("in_dtype"),
        py::arg("ld_x"), py::arg("rows"), py::arg("cols"), py::arg("q"), py::arg("ld_q"),
        py::arg("scale"), py::arg("bad_row_flag"), py::arg("device"), py::arg("stream"));
  m.def("dequantize_rows_cuda", &dequantize_rows_cuda, py::arg("q"), py::arg("rows"),
        py::arg("cols"), py::arg("scale"), py::arg("out"), py::arg("device"),
        py::arg("stream"));
}

}  // namespace lepton
