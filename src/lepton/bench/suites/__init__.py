"""Registered suites: name -> module defining ``cases(size)``, or ``study(size, out_dir)`` for
a study that makes its own tables (the tuner study, the pipeline's per-step comparison)."""

SUITES = {
    "gemm": "lepton.bench.suites.gemm",
    "preprocess": "lepton.bench.suites.preprocess",
    "pca": "lepton.bench.suites.pca",
    "inference": "lepton.bench.suites.inference",
    "pipeline": "lepton.bench.suites.pipeline",
    "host": "lepton.bench.suites.host",
    "tune_study": "lepton.bench.suites.tune_study",
    "zeus_check": "lepton.bench.suites.zeus_check",
}

# Run only when named: the tuner study takes minutes of tuning (made for the GPU session); the
# Zeus cross-check needs zeus, which lepton does not depend on.
OPT_IN = frozenset({"tune_study", "zeus_check"})
