"""Int8 inference for models people already have: ``Lepton(model).predict(x)``."""

from lepton.inference.calibration import CalibrationReport
from lepton.inference.compare import Comparison
from lepton.inference.measuring import CallCost
from lepton.inference.model import Lepton
from lepton.inference.plan import SUPPORTED_MODELS

__all__ = ["SUPPORTED_MODELS", "CalibrationReport", "CallCost", "Comparison", "Lepton"]
