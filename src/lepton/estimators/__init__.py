"""scikit-learn estimators backed by lepton's kernels.

Drop-ins (subclasses of scikit-learn's, same constructors, attributes and results; what lepton
does not accelerate runs scikit-learn's code, see each class's ``fallback_reason``):
``PCA`` (sklearn.decomposition), ``StandardScaler`` and ``MinMaxScaler``
(sklearn.preprocessing), ``SimpleImputer`` (sklearn.impute). lepton's own: ``Preprocessor``
(impute → clip → scale → cast in one fused pass).
"""

from lepton.estimators.imputer import SimpleImputer
from lepton.estimators.pca import PCA
from lepton.estimators.preprocessor import Preprocessor
from lepton.estimators.scalers import MinMaxScaler, StandardScaler

__all__ = ["PCA", "MinMaxScaler", "Preprocessor", "SimpleImputer", "StandardScaler"]
