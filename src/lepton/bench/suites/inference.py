"""Benchmark suite ``inference``: ``Lepton(model).predict`` against the model's own predict.

The model is the issue's MLP 784-1024-1024-10 (ReLU), briefly trained on structured synthetic
data so that its class scores are not near-ties (random weights make label agreement a coin
toss on rows whose top two scores differ by less than the quantization step). Batch 4096 rows.
Peers: scikit-learn's own ``predict`` (float32 weights when trained on float32 data) and, where
torch is installed, the same network as a torch float32 ``nn.Sequential`` under
``torch.inference_mode`` — its fastest CPU path. Label agreement with the float model goes in the
case notes.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from lepton import get_isa, get_num_threads
from lepton.bench.case import Case, Impl

LAYERS = (784, 1024, 1024, 10)
BATCH = 4096


def _trained_mlp(rng: np.random.Generator):
    from sklearn.datasets import make_classification
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    x, y = make_classification(
        n_samples=6000,
        n_features=LAYERS[0],
        n_informative=64,
        n_classes=LAYERS[-1],
        n_clusters_per_class=1,
        random_state=int(rng.integers(1 << 31)),
    )
    x = x.astype(np.float32)
    model = MLPClassifier(hidden_layer_sizes=LAYERS[1:-1], max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y)
    return model, x


def _torch_peer(model) -> tuple[Impl | None, str]:
    try:
        import torch
    except ImportError:
        return None, "torch not installed"
    layers: list = []
    for i, (w, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True)):
        linear = torch.nn.Linear(w.shape[0], w.shape[1])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.T, np.float32)))
            linear.bias.copy_(torch.from_numpy(b.astype(np.float32)))
        layers.append(linear)
        if i < len(model.coefs_) - 1:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers).eval()
    return net, ""


def cases(size: str) -> list[Case]:
    from lepton import Lepton

    rng = np.random.default_rng(0)
    model, pool = _trained_mlp(rng)
    x = pool[rng.integers(0, len(pool), BATCH)] + rng.normal(0, 0.05, (BATCH, LAYERS[0])).astype(
        np.float32
    )
    fast = Lepton(model)
    agreement = float(np.mean(fast.predict(x) == model.predict(x)))
    impls = [
        Impl("lepton int8 predict", lambda: fast.predict(x), is_lepton=True),
        Impl("sklearn predict", lambda: model.predict(x)),
    ]
    skipped = {}
    net, why = _torch_peer(model)
    if net is None:
        skipped["torch f32"] = why
    else:
        import torch

        xt = torch.from_numpy(x)

        def torch_predict():
            with torch.inference_mode():
                return net(xt).argmax(dim=1)

        impls.append(Impl("torch f32 (inference_mode)", torch_predict))
    flops = 2.0 * BATCH * sum(a * b for a, b in itertools.pairwise(LAYERS))
    return [
        Case(
            suite="inference",
            name=f"MLP {'-'.join(map(str, LAYERS))} batch {BATCH}",
            params={"isa": get_isa(), "threads": get_num_threads(), "label_agreement": agreement},
            impls=impls,
            work_ops=flops,
            notes=f"label agreement with the float model: {100 * agreement:.2f}%",
            skipped=skipped,
        )
    ]
