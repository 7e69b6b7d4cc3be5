// Every ISA translation unit compiles the shared kernel templates with its own -m flags. If two
// of them emitted the same symbol (an inline helper, a template instance), the linker would keep
// one copy and a CPU without AVX-512 could end up calling AVX-512 code. So each ISA TU defines
// LEPTON_KERNEL_NS before including any kernel header, and every kernel header puts its code in
// lepton::gemm::LEPTON_KERNEL_NS: no symbol is shared between ISAs.
#pragma once
#if !defined(LEPTON_KERNEL_NS)
#error "define LEPTON_KERNEL_NS (the ISA's namespace) before including a kernel header"
#endif
