"""Int8 inference for a scikit-learn MLP you already have.

    python examples/int8_mlp.py

Trains a small MLP on scikit-learn's bundled digits, then runs it through Lepton: weights are
quantized per output channel and packed once, each layer is one int8 GEMM with its activation
fused. compare() reports agreement with the float model and the time (and joules, where the
machine has an energy meter) of both paths, measured in the same run.
"""

import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from lepton import Lepton

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    model = MLPClassifier(hidden_layer_sizes=(256, 128), max_iter=100, random_state=0)
    model.fit(X_train, y_train)

lepton = Lepton(model)
print(lepton)
labels = lepton.predict(X_test)  # the model's own labels
proba = lepton.predict_proba(X_test)  # and probabilities, computed in int8
print(f"first labels: {labels[:10]} (float model: {model.predict(X_test[:10])})")

lepton.predict(X_test, measure=True)
m = lepton.last_measurement
joules = "no meter" if m.joules is None else f"{m.joules:.3g} J"
print(f"one predict call: {m.seconds * 1e3:.2f} ms, energy: {joules}")

print(lepton.compare(X_test, y_test))
