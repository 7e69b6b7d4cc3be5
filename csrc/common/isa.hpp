// Runtime CPU feature detection and the ISA cap used to force slower paths in tests.
#pragma once
#include <string>
#include <vector>

namespace lepton {

// Ordered: a higher value implies the lower ones are usable on the same CPU.
enum class Isa : int { scalar = 0, avx2 = 1, avx_vnni = 2, avx512_vnni = 3 };

const char* isa_name(Isa isa);
Isa isa_from_name(const std::string& name);  // throws std::invalid_argument naming the choices

// Best ISA the CPU and OS support AND this build compiled a kernel for.
Isa detected_isa();
// detected_isa() lowered by the cap (env LEPTON_ISA at load, or set_isa_cap()).
Isa active_isa();
void set_isa_cap(Isa cap);
void clear_isa_cap();
// Every ISA that active_isa() could be set to on this machine, lowest first.
std::vector<Isa> available_isas();

}  // namespace lepton
