// One register_*() per area; module.cpp calls them all.
#pragma once
#include <pybind11/pybind11.h>

namespace lepton {
void register_info(pybind11::module_& m);
void register_gemm(pybind11::module_& m);
void register_preprocess(pybind11::module_& m);
void register_pca(pybind11::module_& m);
void register_cuda(pybind11::module_& m);  // no-op in builds without CUDA
void register_pca_cuda(pybind11::module_& m);  // CUDA builds only
void register_preprocess_cuda(pybind11::module_& m);  // CUDA builds: called by register_cuda
}  // namespace lepton
