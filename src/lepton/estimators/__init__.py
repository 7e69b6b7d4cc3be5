"""scikit-learn style estimators backed by lepton's kernels."""

from lepton.estimators.pca import PCA
from lepton.estimators.preprocessor import Preprocessor

__all__ = ["PCA", "Preprocessor"]
