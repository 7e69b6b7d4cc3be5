"""The implementations the table points at: thin adapters from scikit-learn's estimators to
lepton's kernels, each deciding per call whether lepton runs it."""
