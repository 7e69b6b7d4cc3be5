"""NVIDIA GPU energy through NVML (the nvidia-ml-py package, imported as ``pynvml``).

The total-energy counter (mJ since the driver loaded) is the measurement. It only moves about
every 100 ms, and on recent boards power is sampled part-time, so windows must be long (the
caller repeats short work: see ``measure_repeated``). Reading it is slow — 4.07 ms per call on an
H200 with driver 580, against 0.02 ms for instant power — so it is read at a window's edges and
by the window's sampler thread only, never between the measured calls; the cost is measured when
the meter opens (``read_cost_s``). ``NVML_FI_DEV_POWER_INSTANT`` samples taken by the sampler
thread give a second, independent estimate; the plain power-usage call is a one-second running
average on recent GPUs and is only the fallback.

The GPU is never reconfigured here: no power limits, no clock locks.
"""

from __future__ import annotations

import importlib
import time
from types import ModuleType
from typing import Any

from lepton.energy.base import Clock, Meter
from lepton.energy.devices import nvml_selector

# nvmlFieldValue_t.valueType -> the union member holding the value
_VALUE_MEMBERS = {
    0: "dVal",
    1: "uiVal",
    2: "ulVal",
    3: "ullVal",
    4: "sllVal",
    5: "siVal",
    6: "usVal",
}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _field_value(field: Any) -> float:
    return float(getattr(field.value, _VALUE_MEMBERS.get(int(field.valueType), "uiVal")))


class NvmlMeter(Meter):
    """Energy of one GPU; ``nvml`` may be a stand-in module (tests) instead of ``pynvml``."""

    source = "nvml"
    min_window_s = 1.0
    counter_period_s = 0.1  # the total-energy counter moves about every 100 ms

    def __init__(
        self,
        index: int = 0,
        *,
        nvml: ModuleType | Any | None = None,
        clock: Clock = time.perf_counter,
        sample_interval_s: float | None = 0.01,
    ) -> None:
        super().__init__(clock=clock, device=f"cuda:{index}")
        self.index = index
        self.sample_interval_s = sample_interval_s
        self.instant_power = False  # True: samples are NVML_FI_DEV_POWER_INSTANT
        self._nvml: Any = None
        self._handle: Any = None
        self.reason = self._open(nvml)

    def _open(self, nvml: Any) -> str | None:
        if nvml is None:
            try:
                nvml = importlib.import_module("pynvml")
            except ImportError:
                return "nvidia-ml-py is not installed (pip install nvidia-ml-py)"
        error = getattr(nvml, "NVMLError", Exception)
        try:
            nvml.nvmlInit()
        except error as exc:
            return f"NVML did not initialise ({exc})"
        self._nvml = nvml
        try:
            kind, key = nvml_selector(self.index)
            if kind == "uuid":
                self._handle = nvml.nvmlDeviceGetHandleByUUID(key)
            else:
                self._handle = nvml.nvmlDeviceGetHandleByIndex(key)
            self.device_name = _text(nvml.nvmlDeviceGetName(self._handle))
            self.driver = f"driver {_text(nvml.nvmlSystemGetDriverVersion())}"
        except (error, ValueError) as exc:
            return f"no GPU {self.device} for NVML ({exc})"
        try:
            nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle)
        except error as exc:
            return f"{self.device_name} has no readable energy counter (needs Volta+: {exc})"
        self.instant_power = self._instant_power_works()
        self.measure_read_costs()  # 4 ms a counter read on an H200 (driver 580): never assumed
        return None

    def _instant_power_works(self) -> bool:
        try:
            fields = self._nvml.nvmlDeviceGetFieldValues(
                self._handle, [self._nvml.NVML_FI_DEV_POWER_INSTANT]
            )
        except (self._nvml.NVMLError, AttributeError):
            return False
        return int(fields[0].nvmlReturn) == 0

    @property
    def has_instant_power(self) -> bool:
        return self.instant_power and super().has_instant_power

    def _read_joules(self) -> float:
        return self._nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle) * 1e-3

    def _read_watts(self) -> float | None:
        try:
            if self.instant_power:
                fields = self._nvml.nvmlDeviceGetFieldValues(
                    self._handle, [self._nvml.NVML_FI_DEV_POWER_INSTANT]
                )
                if int(fields[0].nvmlReturn) != 0:
                    return None
                return _field_value(fields[0]) * 1e-3
            return self._nvml.nvmlDeviceGetPowerUsage(self._handle) * 1e-3
        except self._nvml.NVMLError:
            return None  # a missed sample only thins the second estimate

    def temperature_c(self) -> float | None:
        if self._handle is None:
            return None
        try:
            return float(
                self._nvml.nvmlDeviceGetTemperature(self._handle, self._nvml.NVML_TEMPERATURE_GPU)
            )
        except self._nvml.NVMLError:
            return None

    def status(self) -> str:
        text = super().status()
        if self.reason is None and not self.instant_power:
            text += " (no instant-power field: samples are 1 s averages)"
        return text

    def close(self) -> None:
        if self._nvml is not None:
            self._nvml.nvmlShutdown()
            self._nvml = None
            self._handle = None
            self.reason = "closed"
