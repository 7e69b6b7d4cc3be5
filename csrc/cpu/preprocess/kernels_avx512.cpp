// Preprocessing kernels compiled for the avx512 ISA level (flags set in sources.cmake).
#define LEPTON_PREP_VECTOR_BYTES 64
#define LEPTON_PREP_TABLE kernels_avx512
#define LEPTON_PREP_ISA_NAME "avx512"
#include "cpu/preprocess/kernels_impl.hpp"
