"""
=========================================================
Pipelining: chaining a PCA and a logistic regression
=========================================================

After scikit-learn's gallery example of the same name: PCA does an unsupervised
dimensionality reduction, logistic regression does the prediction, and GridSearchCV sets the
number of components and the regularisation together. (A smaller grid than the gallery's, so
that it runs in seconds.)

Run it as it is, or unchanged under lepton::

    python -m lepton.accel examples/accel/plot_digits_pipe.py
"""

import numpy as np
from sklearn import datasets
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

# Define a pipeline to search for the best combination of PCA truncation
# and classifier regularization.
pca = PCA()
scaler = StandardScaler()
logistic = LogisticRegression(max_iter=10000, tol=0.1)
pipe = Pipeline(steps=[("scaler", scaler), ("pca", pca), ("logistic", logistic)])

X_digits, y_digits = datasets.load_digits(return_X_y=True)
param_grid = {
    "pca__n_components": [5, 15, 30],
    "logistic__C": np.logspace(-2, 2, 3),
}
search = GridSearchCV(pipe, param_grid, cv=3)
search.fit(X_digits, y_digits)
print(f"Best parameter (CV score={search.best_score_:0.3f}):")
print(search.best_params_)

# Plot the PCA spectrum (printed here)
pca.fit(StandardScaler().fit_transform(X_digits))
ratios = pca.explained_variance_ratio_
print("explained variance ratio of the first 5 components:", np.round(ratios[:5], 5))
needed = np.searchsorted(np.cumsum(ratios), 0.9) + 1
print(f"components for 90% of the variance: {needed}")
for n, mean, std in zip(
    search.cv_results_["param_pca__n_components"],
    search.cv_results_["mean_test_score"],
    search.cv_results_["std_test_score"],
    strict=True,
):
    print(f"n_components={n}: {mean:.4f} +/- {std:.4f}")
