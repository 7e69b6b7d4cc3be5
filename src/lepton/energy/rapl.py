"""CPU package energy through the Linux powercap interface (Intel RAPL, AMD's too).

Each package zone ``/sys/class/powercap/intel-rapl:N`` has a micro-joule counter
``energy_uj`` that wraps at ``max_energy_range_uj``. Sub-zones (``intel-rapl:N:M``: core,
uncore, dram) are parts of, or beside, the package and are not added again.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from lepton.energy.base import Clock, Meter
from lepton.energy.devices import cpu_model_name

POWERCAP_ROOT = "/sys/class/powercap"
_PACKAGE_ZONE = re.compile(r"^intel-rapl:\d+$")


@dataclass
class _Zone:
    path: Path
    name: str
    max_range_uj: int
    last_uj: int
    total_uj: int = 0


def _read_int(path: Path) -> int:
    return int(path.read_text().strip())


class RaplMeter(Meter):
    """Sum of the CPU package counters; ``reason`` says why when they cannot be read.

    Whole-package energy includes every process on the machine, not only the measured work.
    """

    source = "rapl"
    min_window_s = 0.25
    counter_period_s = 0.001  # the package counters update about every millisecond
    # A 32-bit counter of ~61 µJ units wraps after ~260 kJ (~20 min at 200 W): polling every few
    # seconds catches every wrap even in a window that spans several.
    sample_interval_s = 5.0

    def __init__(
        self, *, root: str | Path = POWERCAP_ROOT, clock: Clock = time.perf_counter
    ) -> None:
        super().__init__(clock=clock, device="cpu")
        self.root = Path(root)
        self.device_name = cpu_model_name()
        self._lock = threading.Lock()
        self._zones: list[_Zone] = []
        self.reason = self._discover()

    def _discover(self) -> str | None:
        if not self.root.is_dir():
            return f"{self.root} does not exist (no powercap driver in this kernel or container)"
        zone_dirs = sorted(p for p in self.root.iterdir() if _PACKAGE_ZONE.match(p.name))
        if not zone_dirs:
            return f"no RAPL zone under {self.root}"
        for zone_dir in zone_dirs:
            try:
                name = (zone_dir / "name").read_text().strip()
                if not name.startswith("package"):
                    continue  # e.g. "psys": the whole platform, which already counts the packages
                max_range = _read_int(zone_dir / "max_energy_range_uj")
                now = _read_int(zone_dir / "energy_uj")
            except PermissionError:
                return (
                    f"permission denied reading {zone_dir / 'energy_uj'} (root-only since Linux "
                    "5.10; run as root or grant read access to the file)"
                )
            except (OSError, ValueError) as exc:
                return f"cannot read {zone_dir}: {exc}"
            self._zones.append(_Zone(zone_dir, name, max_range, now))
        if not self._zones:
            return f"no package zone under {self.root}"
        self.driver = "+".join(z.name for z in self._zones)
        self.measure_read_costs()
        return None

    def _read_joules(self) -> float:
        # The sampler thread and the window's ends both read: one reader at a time keeps each
        # zone's "last" value consistent.
        with self._lock:
            for zone in self._zones:
                now = _read_int(zone.path / "energy_uj")
                delta = now - zone.last_uj
                if delta < 0:  # the counter wrapped past max_energy_range_uj
                    delta += zone.max_range_uj
                zone.total_uj += delta
                zone.last_uj = now
            return sum(z.total_uj for z in self._zones) * 1e-6

    def _poll(self) -> None:
        self._read_joules()
