"""
=====================================================================
Imputing, scaling and PCA before a logistic regression, at 200k × 256
=====================================================================

A gallery-style pipeline on generated data: 5% of the values are missing, so the pipeline
imputes them (column means), standardises every feature, keeps 32 principal components and fits
a logistic regression on them.

Plain scikit-learn::

    python examples/accel/pipeline_200k.py

The same script, unchanged, with lepton's kernels under the supported estimators and
scikit-learn's own methods run alongside for the comparison::

    python -m lepton.accel --compare examples/accel/pipeline_200k.py

Results go to stdout; timings go to stderr so that the printed results of both runs can be
compared line by line.
"""

import argparse
import sys
import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[1])
parser.add_argument("--rows", type=int, default=200_000)
parser.add_argument("--features", type=int, default=256)
parser.add_argument("--components", type=int, default=32)
parser.add_argument("--missing", type=float, default=0.05)
args = parser.parse_args()

start = time.perf_counter()
X, y = make_classification(
    n_samples=args.rows,
    n_features=args.features,
    n_informative=args.features // 8,
    n_redundant=args.features // 8,
    class_sep=0.5,
    random_state=0,
)
rng = np.random.default_rng(0)
X[rng.random(X.shape) < args.missing] = np.nan
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
made = time.perf_counter()

pipe = make_pipeline(
    SimpleImputer(strategy="mean"),
    StandardScaler(),
    PCA(n_components=args.components),
    LogisticRegression(max_iter=1000),
)
pipe.fit(X_train, y_train)
fitted = time.perf_counter()
accuracy = pipe.score(X_test, y_test)
scored = time.perf_counter()

pca = pipe.named_steps["pca"]
print(f"rows: {args.rows}, features: {args.features}, missing: {args.missing:.0%}")
explained = pca.explained_variance_ratio_.sum()
print(f"explained variance of {args.components} components: {explained:.4f}")
print(f"test accuracy: {accuracy:.4f}")
print(
    f"time: data {made - start:.2f} s, fit {fitted - made:.2f} s, score {scored - fitted:.2f} s, "
    f"all {scored - start:.2f} s",
    file=sys.stderr,
)
