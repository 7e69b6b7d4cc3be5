"""Small launches of every CUDA kernel family, run under compute-sanitizer by scripts/sanitize.sh.

Not collected by pytest (no test_ prefix). Each family appends its small case to CASES.
"""

from lepton import _core


def probe() -> None:
    assert _core.cuda_probe(0, 1000) == 0.0


CASES = [probe]

if __name__ == "__main__":
    for case in CASES:
        case()
        print(f"ok {case.__name__}")
