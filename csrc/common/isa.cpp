#include "common/isa.hpp"

#include <atomic>
#include <cstdlib>

#include "common/errors.hpp"

namespace lepton {
namespace {

constexpr const char* kNames[] = {"scalar", "avx2", "avx_vnni", "avx512_vnni"};

bool cpu_has(Isa isa) {
#if defined(LEPTON_X86)
  // __builtin_cpu_supports also checks that the OS saves the wide registers (XCR0).
  switch (isa) {
    case Isa::scalar: return true;
    case Isa::avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::avx_vnni: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avxvnni");
    case Isa::avx512_vnni:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  }
  return false;
#else
  return isa == Isa::scalar;
#endif
}

Isa detect() {
  Isa best = Isa::scalar;
  for (int i = 1; i <= 3; ++i)
    if (cpu_has(static_cast<Isa>(i))) best = static_cast<Isa>(i);
  return best;
}

int initial_cap() {
  const char* env = std::getenv("LEPTON_ISA");
  if (env == nullptr || *env == '\0') return 3;
  return static_cast<int>(isa_from_name(env));
}

std::atomic<int>& cap() {
  static std::atomic<int> value{initial_cap()};
  return value;
}

}  // namespace

const char* isa_name(Isa isa) { return kNames[static_cast<int>(isa)]; }

Isa isa_from_name(const std::string& name) {
  for (int i = 0; i <= 3; ++i)
    if (name == kNames[i]) return static_cast<Isa>(i);
  fail_arg("isa: unknown ISA '", name, "'; expected one of scalar, avx2, avx_vnni, avx512_vnni");
}

Isa detected_isa() {
  static const Isa isa = detect();
  return isa;
}

Isa active_isa() {
  int best = static_cast<int>(detected_isa());
  int c = cap().load();
  // avx_vnni and avx512_vnni are not nested on every CPU (Zen 4 has no AVX-VNNI): walk down to
  // the highest supported level at or below the cap.
  for (int i = c < best ? c : best; i > 0; --i)
    if (cpu_has(static_cast<Isa>(i))) return static_cast<Isa>(i);
  return Isa::scalar;
}

void set_isa_cap(Isa c) {
  LEPTON_CHECK_ARG(cpu_has(c), "isa: this CPU cannot run '", isa_name(c), "'");
  cap().store(static_cast<int>(c));
}

void clear_isa_cap() { cap().store(3); }

std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (int i = 0; i <= 3; ++i)
    if (cpu_has(static_cast<Isa>(i))) out.push_back(static_cast<Isa>(i));
  return out;
}

}  // namespace lepton
