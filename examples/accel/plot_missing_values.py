"""
====================================================
Imputing missing values before building an estimator
====================================================

After scikit-learn's gallery example of the same name, on the diabetes data set (it ships
with scikit-learn): values are removed at random, then imputed by the column mean or by a
constant before a standardised ridge regression; cross-validated scores are compared with
those on the full data.

Run it as it is, or unchanged under lepton::

    python -m lepton.accel examples/accel/plot_missing_values.py
"""

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.impute import SimpleImputer
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

rng = np.random.RandomState(42)
X_full, y_full = load_diabetes(return_X_y=True)
n_samples, n_features = X_full.shape

# Remove 25% of the values, at random.
missing_rate = 0.25
X_missing = X_full.copy()
X_missing[rng.rand(n_samples, n_features) < missing_rate] = np.nan
print(f"missing values: {np.isnan(X_missing).sum()} of {X_missing.size}")

regressor = RidgeCV(alphas=np.logspace(-3, 3, 13))


def score(imputer, X):
    steps = [imputer] if imputer is not None else []
    pipe = make_pipeline(*steps, StandardScaler(), regressor)
    scores = cross_val_score(pipe, X, y_full, scoring="neg_mean_squared_error", cv=5)
    return scores.mean(), scores.std()


for name, imputer, X in (
    ("full data", None, X_full),
    ("zero imputation", SimpleImputer(strategy="constant", fill_value=0), X_missing),
    ("mean imputation", SimpleImputer(strategy="mean"), X_missing),
):
    mean, std = score(imputer, X)
    print(f"{name:16s} MSE {-mean:10.3f} +/- {std:8.3f}")

imputer = SimpleImputer(strategy="mean").fit(X_missing)
print("imputed column means (first four):", np.round(imputer.statistics_[:4], 6))
