// One register_*() per area, each in its own bind_<area>.cpp; module.cpp calls them all. Every
// file has the same shape: the entry points and dict builders as named functions in an anonymous
// namespace, then its register_*() listing them with their argument names and docs. The CUDA
// areas are compiled (csrc/cuda/sources.cmake) and registered only in CUDA builds.
#pragma once
#include <pybind11/pybind11.h>

namespace lepton {
void register_info(pybind11::module_& m);        // version, CPU ISA, threads, cuda_compiled
void register_gemm(pybind11::module_& m);        // int8 GEMM, row quantization, packed weights
void register_preprocess(pybind11::module_& m);  // fused column stats + apply
void register_pca(pybind11::module_& m);         // centred Gram, column moments
#if defined(LEPTON_HAVE_CUDA)
void register_cuda(pybind11::module_& m);             // devices, the probe kernel, streams
void register_gemm_cuda(pybind11::module_& m);        // int8 GEMM, row quantization
void register_preprocess_cuda(pybind11::module_& m);  // fused column stats + apply
void register_pca_cuda(pybind11::module_& m);         // centred Gram
#endif
}  // namespace lepton
