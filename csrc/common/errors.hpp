// Argument checks shared by the CPU and CUDA cores. pybind11 maps std::invalid_argument to
// ValueError and std::runtime_error to RuntimeError, so every message names the argument.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace lepton {

template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}

template <class... Parts>
[[noreturn]] void fail_arg(const Parts&... parts) {
  throw std::invalid_argument(concat(parts...));
}

}  // namespace lepton

#define LEPTON_CHECK_ARG(cond, ...)       \
  do {                                    \
    if (!(cond)) ::lepton::fail_arg(__VA_ARGS__); \
  } while (0)
