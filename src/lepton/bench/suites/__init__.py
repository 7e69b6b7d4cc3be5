"""Registered suites: name -> module defining ``cases(size)``."""

SUITES = {
    "gemm": "lepton.bench.suites.gemm",
    "preprocess": "lepton.bench.suites.preprocess",
    "pca": "lepton.bench.suites.pca",
    "inference": "lepton.bench.suites.inference",
}
