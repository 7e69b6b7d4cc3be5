"""
=========================================================
PCA and LDA projections of the Iris data set
=========================================================

After scikit-learn's gallery example "Comparison of LDA and PCA 2D projection of Iris
dataset": the four Iris measurements projected on their first two principal components
(unsupervised) and on the two discriminant axes of LDA (supervised). The numbers are printed
instead of plotted.

Run it as it is, or unchanged under lepton::

    python -m lepton.accel examples/accel/plot_pca_iris.py
"""

import numpy as np
from sklearn import datasets
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

iris = datasets.load_iris()
X = iris.data
y = iris.target
target_names = iris.target_names

pca = PCA(n_components=2)
X_r = pca.fit(X).transform(X)

lda = LinearDiscriminantAnalysis(n_components=2)
X_r2 = lda.fit(X, y).transform(X)

# Percentage of variance explained for each component
print(f"explained variance ratio (first two components): {pca.explained_variance_ratio_}")
print("components:")
for row in pca.components_:
    print("  " + "  ".join(f"{v:+.6f}" for v in row))
for i, name in enumerate(target_names):
    centre = X_r[y == i].mean(axis=0)
    print(f"PCA centre of {name}: ({centre[0]:+.5f}, {centre[1]:+.5f})")
    centre = X_r2[y == i].mean(axis=0)
    print(f"LDA centre of {name}: ({centre[0]:+.5f}, {centre[1]:+.5f})")

# Whitened components: unit variance along each kept direction.
white = PCA(n_components=2, whiten=True).fit_transform(X)
print(f"whitened standard deviations: {np.array2string(white.std(axis=0, ddof=1), precision=6)}")
