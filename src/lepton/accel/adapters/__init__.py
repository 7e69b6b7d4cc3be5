"""The implementations the table points at: lepton's drop-in estimators behind scikit-learn's
classes (:mod:`.dropin`) and int8 inference for ``--int8`` (:mod:`.int8`), each deciding per call
whether lepton runs it."""
