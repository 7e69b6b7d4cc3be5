"""Device names as the energy code spells them (``"cpu"``, ``"cuda:N"``), and what identifies a
device. Defined once in :mod:`lepton._device`, below energy, the ops and the tuner; the names
energy needs are re-exported here.
"""

from __future__ import annotations

from lepton._device import (
    cpu_model_name,
    cuda_index,
    device_identity,
    normalize_device,
    nvml_selector,
)

__all__ = ["cpu_model_name", "cuda_index", "device_identity", "normalize_device", "nvml_selector"]
