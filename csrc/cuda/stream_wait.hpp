// Orders one stream after another's current work without blocking the host (event record +
// stream wait): used when a __cuda_array_interface__ v3 producer names a stream other than the
// one lepton launches on.
#pragma once
#include <cstdint>

namespace lepton::cuda {

void stream_wait(int device, std::uintptr_t waiter, std::uintptr_t producer);

}  // namespace lepton::cuda
