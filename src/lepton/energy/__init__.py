"""Energy measurement: meters for GPUs (NVML) and CPUs (RAPL), windows, idle power, monitoring.

``with lepton.energy.measure(device="cuda:0") as m: ...`` then ``m.result`` is a
``Measurement(seconds, joules, avg_watts, source, samples, ...)``. Where no meter can be read the
source is ``"none"`` and joules are ``None``: energy numbers are never made up.

A measurement does not perturb what it measures: the meter is read at a window's edges (outside
its time) and by a sampler thread, never between the measured calls; on a GPU the time comes
from CUDA events (``timing.py``), with the share of the window the device spent in the calls
(``Measurement.busy_fraction``).
"""

from lepton.energy.base import Meter, NullMeter
from lepton.energy.measure import idle_power, measure, measure_repeated
from lepton.energy.measurement import Measurement, MeasurementWarning
from lepton.energy.meters import available_meters, meter_for
from lepton.energy.monitor import Monitor, RegionTotal
from lepton.energy.nvml import NvmlMeter
from lepton.energy.rapl import RaplMeter
from lepton.energy.timing import CudaEventTimer, DeviceTimer, HostTimer

__all__ = [
    "CudaEventTimer",
    "DeviceTimer",
    "HostTimer",
    "Measurement",
    "MeasurementWarning",
    "Meter",
    "Monitor",
    "NullMeter",
    "NvmlMeter",
    "RaplMeter",
    "RegionTotal",
    "available_meters",
    "idle_power",
    "measure",
    "measure_repeated",
    "meter_for",
]
