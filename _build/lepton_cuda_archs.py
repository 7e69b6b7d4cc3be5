"""Which CUDA architectures a build compiles: the one place that decides it.

CMakeLists.txt runs this file (``python lepton_cuda_archs.py MODE [ARCHS]``: first line the
architectures, comma-separated, second line why) and the build backend imports it (the CUTLASS
headers are a build requirement only when sm_90a is built).

- ``LEPTON_CUDA_ARCHITECTURES`` given: exactly those (CI, wheels, cross builds).
- ``LEPTON_CUDA=ON``: the wheel's set, ``WHEEL_ARCHS``.
- ``LEPTON_CUDA=AUTO`` (default): the GPUs this machine sees, each as its own SASS — what
  CMake's ``native`` does, except that Hopper (compute capability 9.0) gets ``90a``: its wgmma
  kernels need the architecture-specific target, which ``native`` (plain ``90``) leaves out.
  No GPU seen (or only ones older than sm_80, which lack the int8 ``mma.sync`` shapes): no CUDA,
  a CPU-only build that takes a fraction of the time.
- ``LEPTON_CUDA=OFF``: no CUDA.

GPUs are found through the driver (``libcuda``, honours ``CUDA_VISIBLE_DEVICES``), else
``nvidia-smi``. Standard library only: this runs inside pip's isolated build environment.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import sys

MODES = ("AUTO", "ON", "OFF")
# sm_80 SASS for Ampere/Ada, sm_90a SASS for Hopper's wgmma/TMA, compute_90 PTX for what comes next.
WHEEL_ARCHS = "80-real;90a-real;90-virtual"
MIN_CAPABILITY = (8, 0)  # int8 mma.sync m16n8k32
_CU_ATTR_CC_MAJOR, _CU_ATTR_CC_MINOR = 75, 76  # CUdevice_attribute


def _from_driver() -> list[tuple[int, int]] | None:
    """Compute capabilities through libcuda; None when there is no driver to ask."""
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return None
    if cuda.cuInit(0) != 0:  # CUDA_ERROR_NO_DEVICE and friends: a driver, no usable GPU
        return []
    count = ctypes.c_int(0)
    if cuda.cuDeviceGetCount(ctypes.byref(count)) != 0:
        return []
    found = []
    for index in range(count.value):
        device, major, minor = ctypes.c_int(0), ctypes.c_int(0), ctypes.c_int(0)
        if cuda.cuDeviceGet(ctypes.byref(device), index) != 0:
            continue
        cuda.cuDeviceGetAttribute(ctypes.byref(major), _CU_ATTR_CC_MAJOR, device)
        cuda.cuDeviceGetAttribute(ctypes.byref(minor), _CU_ATTR_CC_MINOR, device)
        found.append((major.value, minor.value))
    return found


def _from_nvidia_smi() -> list[tuple[int, int]]:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        out = subprocess.run(
            [smi, "--query-gpu=compute_cap", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return parse_compute_caps(out)


def parse_compute_caps(text: str) -> list[tuple[int, int]]:
    """``"9.0\\n8.6\\n"`` (nvidia-smi's csv) -> ``[(9, 0), (8, 6)]``; odd lines are skipped."""
    found = []
    for line in text.splitlines():
        major, _, minor = line.strip().partition(".")
        if major.isdigit() and minor.isdigit():
            found.append((int(major), int(minor)))
    return found


def visible_gpus() -> list[tuple[int, int]]:
    found = _from_driver()
    return _from_nvidia_smi() if found is None else found


def arch_for(capability: tuple[int, int]) -> str | None:
    """The CMake architecture to build for a GPU, or None when lepton has no kernels for it."""
    if capability < MIN_CAPABILITY:
        return None
    major, minor = capability
    return "90a-real" if capability == (9, 0) else f"{major}{minor}-real"


def resolve(
    mode: str, explicit: str = "", gpus: list[tuple[int, int]] | None = None
) -> tuple[str, str]:
    """(architectures as a CMake list, or "" for no CUDA; a sentence saying why)."""
    mode = mode.strip().upper()
    if mode not in MODES:
        msg = f"LEPTON_CUDA must be one of {', '.join(MODES)}, got {mode!r}"
        raise ValueError(msg)
    if mode == "OFF":
        return "", "LEPTON_CUDA=OFF: CPU only"
    if explicit.strip():
        return explicit.strip(), f"LEPTON_CUDA_ARCHITECTURES={explicit.strip()}"
    if mode == "ON":
        return WHEEL_ARCHS, f"LEPTON_CUDA=ON: the wheel's architectures {WHEEL_ARCHS}"
    gpus = visible_gpus() if gpus is None else gpus
    if not gpus:
        return "", "LEPTON_CUDA=AUTO and no GPU visible: CPU only (LEPTON_CUDA=ON builds CUDA)"
    seen = ", ".join(f"sm_{a}{b}" for a, b in gpus)
    archs = sorted({a for a in map(arch_for, gpus) if a is not None})
    if not archs:
        return "", f"LEPTON_CUDA=AUTO: GPUs {seen} predate sm_80: CPU only"
    return ";".join(archs), f"LEPTON_CUDA=AUTO: GPUs {seen} -> {';'.join(archs)}"


def builds_sm90a(archs: str) -> bool:
    """Whether ``archs`` includes Hopper's wgmma target (the kernels built on CUTLASS)."""
    return "90a" in archs


if __name__ == "__main__":
    try:
        archs, why = resolve(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "")
    except ValueError as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
    # two lines for CMake, commas for semicolons (CMake splits lists on those)
    print(archs.replace(";", ","))
    print(why.replace(";", ","))
