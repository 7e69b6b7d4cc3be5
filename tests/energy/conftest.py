"""Stand-ins for NVML and the powercap sysfs tree."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest


class FakeNvmlError(Exception):
    pass


class FakeNvml:
    """Enough of pynvml for NvmlMeter: a counter and instant power driven by a clock."""

    NVML_FI_DEV_POWER_INSTANT = 186
    NVML_TEMPERATURE_GPU = 0
    NVMLError = FakeNvmlError

    def __init__(
        self,
        *,
        clock=time.perf_counter,
        counter_watts: float = 300.0,
        instant_watts: float = 300.0,
        instant_supported: bool = True,
        energy_supported: bool = True,
        init_error: str | None = None,
        count: int = 4,
        energy_read_s: float = 0.0,
    ) -> None:
        self.clock = clock
        self.counter_watts = counter_watts
        self.instant_watts = instant_watts
        self.instant_supported = instant_supported
        self.energy_supported = energy_supported
        self.init_error = init_error
        self.count = count
        self.energy_read_s = energy_read_s  # what one energy-counter read costs (H200: 4 ms)
        self.energy_reads: list[str] = []  # the name of the thread of each energy read
        self.inits = 0
        self.opened: list[tuple[str, object]] = []

    def nvmlInit(self):
        if self.init_error:
            raise FakeNvmlError(self.init_error)
        self.inits += 1

    def nvmlShutdown(self):
        self.inits -= 1

    def nvmlDeviceGetCount(self):
        return self.count

    def nvmlDeviceGetHandleByIndex(self, index):
        if index >= self.count:
            raise FakeNvmlError("Invalid Argument")
        self.opened.append(("index", index))
        return ("gpu", index)

    def nvmlDeviceGetHandleByUUID(self, uuid):
        self.opened.append(("uuid", uuid))
        return ("gpu", uuid)

    def nvmlDeviceGetName(self, handle):
        return b"NVIDIA H100 80GB HBM3"  # older pynvml returns bytes

    def nvmlSystemGetDriverVersion(self):
        return "550.54.15"

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        if not self.energy_supported:
            raise FakeNvmlError("Not Supported")
        value = int(self.counter_watts * self.clock() * 1000)  # mJ, as of the read's start
        self.energy_reads.append(threading.current_thread().name)
        if self.energy_read_s:
            if hasattr(self.clock, "advance"):
                self.clock.advance(self.energy_read_s)
            else:
                time.sleep(self.energy_read_s)
        return value

    def nvmlDeviceGetFieldValues(self, handle, field_ids):
        assert field_ids == [self.NVML_FI_DEV_POWER_INSTANT]
        value = SimpleNamespace(uiVal=int(self.instant_watts * 1000))
        status = 0 if self.instant_supported else 2
        return [SimpleNamespace(nvmlReturn=status, valueType=1, value=value)]

    def nvmlDeviceGetPowerUsage(self, handle):
        return int(self.instant_watts * 1000)

    def nvmlDeviceGetTemperature(self, handle, sensor):
        return 61


@pytest.fixture
def fake_nvml():
    return FakeNvml


def write_zone(root: Path, name: str, label: str, energy_uj: int, max_uj: int) -> Path:
    zone = root / name
    zone.mkdir(parents=True, exist_ok=True)
    (zone / "name").write_text(label + "\n")
    (zone / "energy_uj").write_text(f"{energy_uj}\n")
    (zone / "max_energy_range_uj").write_text(f"{max_uj}\n")
    return zone


@pytest.fixture
def powercap(tmp_path):
    """A powercap tree: package-0, its core sub-zone, and a psys zone that must be ignored."""
    root = tmp_path / "powercap"
    write_zone(root, "intel-rapl:0", "package-0", 9_000_000, 10_000_000)
    write_zone(root, "intel-rapl:0:0", "core", 5_000, 10_000_000)
    write_zone(root, "intel-rapl:1", "psys", 7_000_000, 10_000_000)
    return root


@pytest.fixture(name="write_zone")
def write_zone_fixture():
    return write_zone


@pytest.fixture
def set_energy():
    def set_energy(root: Path, zone: str, energy_uj: int) -> None:
        (root / zone / "energy_uj").write_text(f"{energy_uj}\n")

    return set_energy
