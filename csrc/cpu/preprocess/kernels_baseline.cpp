// Preprocessing kernels compiled for the baseline ISA level (flags set in sources.cmake).
#define LEPTON_PREP_VECTOR_BYTES 16
#define LEPTON_PREP_TABLE kernels_baseline
#define LEPTON_PREP_ISA_NAME "baseline"
#include "cpu/preprocess/kernels_impl.hpp"
