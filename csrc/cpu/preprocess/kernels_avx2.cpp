// Preprocessing kernels compiled for the avx2 ISA level (flags set in sources.cmake).
#define LEPTON_PREP_VECTOR_BYTES 32
#define LEPTON_PREP_TABLE kernels_avx2
#define LEPTON_PREP_ISA_NAME "avx2"
#include "cpu/preprocess/kernels_impl.hpp"
