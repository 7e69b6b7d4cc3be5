"""
=============================
Importance of Feature Scaling
=============================

After scikit-learn's gallery example of the same name: on the wine data set, PCA without
scaling is dominated by the feature with the largest range (proline); standardising first
gives components that weigh all features, and a better classifier downstream. A min-max
scaled variant is shown too. The numbers are printed instead of plotted.

Run it as it is, or unchanged under lepton::

    python -m lepton.accel examples/accel/plot_scaling_importance.py
"""

from sklearn.datasets import load_wine
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

X, y = load_wine(return_X_y=True, as_frame=True)
scaler = StandardScaler().set_output(transform="pandas")

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.30, random_state=42)
scaled_X_train = scaler.fit_transform(X_train)

print("feature ranges before scaling (max - min), first five:")
print((X_train.max() - X_train.min()).head().round(3).to_string())
print("after standard scaling:")
print((scaled_X_train.max() - scaled_X_train.min()).head().round(3).to_string())

pca = PCA(n_components=2).fit(X_train)
scaled_pca = PCA(n_components=2).fit(scaled_X_train)
first, scaled_first = pca.components_[0], scaled_pca.components_[0]
for name, loadings in (("unscaled", first), ("scaled:  ", scaled_first)):
    top = abs(loadings).argmax()
    weight = abs(loadings[top])
    print(f"largest loading of the first component, {name} {X.columns[top]} ({weight:.4f})")

for name, steps in (
    ("unscaled", [PCA(n_components=2)]),
    ("standard", [StandardScaler(), PCA(n_components=2)]),
    ("min-max", [MinMaxScaler(), PCA(n_components=2)]),
):
    clf = make_pipeline(*steps, LogisticRegression(max_iter=5000)).fit(X_train, y_train)
    print(f"test accuracy with {name} features: {clf.score(X_test, y_test):.2%}")
