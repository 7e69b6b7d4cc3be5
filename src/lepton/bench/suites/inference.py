"""Benchmark suite ``inference``: ``Lepton(model).predict`` against the model's own predict.

The model is the issue's MLP 784-1024-1024-10 (ReLU), briefly trained on structured synthetic
data so that its class scores are not near-ties (random weights make label agreement a coin
toss on rows whose top two scores differ by less than the quantization step). Batch 4096 rows.
Peers: scikit-learn's own ``predict`` (float32 weights when trained on float32 data) and, where
torch is installed, the same network as a torch float32 ``nn.Sequential`` under
``torch.inference_mode`` — its fastest CPU path. Label agreement with the float model goes in the
case notes.

At ``size="full"`` with a GPU (CUDA build, torch with CUDA), one more case runs on ``cuda:0``:
``Lepton(model).predict`` on a torch CUDA tensor and on a cupy array (int8 layers on the GPU,
labels returned on the device) against the same network as torch float16 and float32
``nn.Sequential`` on the GPU under ``inference_mode`` — torch's standard fast path. torch.compile
is left out: its first compile costs tens of seconds of a 10-minute device call and a shape
change recompiles; CUDA-graph capture (``mode="reduce-overhead"``) would mostly remove launch
gaps that a 4096-row batch of three GEMMs barely has. Seconds and joules per 1M rows come with
each implementation (``Case.rows``); label agreement with torch float32 goes in the notes.
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


def _gpu_case(fast, net, x: np.ndarray) -> Case | None:
    """Lepton int8 on torch/cupy device input vs torch float16/float32 on the GPU (or None)."""
    from lepton.bench.suites.gemm_cuda import available

    if not available():
        return None
    import copy

    import torch

    device = "cuda:0"
    net32 = copy.deepcopy(net).to(device).eval()
    net16 = copy.deepcopy(net).to(device).half().eval()
    xt = torch.from_numpy(x).to(device)
    xt16 = xt.half()
    sync = torch.cuda.synchronize

    def torch_labels(model, inputs):
        with torch.inference_mode():
            return model(inputs).argmax(dim=1)

    reference = torch_labels(net32, xt)
    agreement = {
        "lepton int8 (torch in)": fast.predict(xt),
        "torch f16": torch_labels(net16, xt16),
    }
    impls = [
        Impl("lepton int8 predict (torch cuda)", lambda: fast.predict(xt), True, sync),
        Impl("torch f16 (inference_mode)", lambda: torch_labels(net16, xt16), sync=sync),
        Impl("torch f32 (inference_mode)", lambda: torch_labels(net32, xt), sync=sync),
    ]
    skipped = {"torch.compile": "not used: compile time and recompiles (see module docstring)"}
    try:
        import cupy

        xc = cupy.asarray(x)
        agreement["lepton int8 (cupy in)"] = torch.as_tensor(fast.predict(xc), device=device)
        impls.insert(1, Impl("lepton int8 predict (cupy)", lambda: fast.predict(xc), True, sync))
    except ImportError:
        skipped["lepton int8 predict (cupy)"] = "cupy is not installed"
    rates = {k: float((v.long() == reference).float().mean()) for k, v in agreement.items()}
    notes = "label agreement with torch f32 on the GPU: " + ", ".join(
        f"{k} {100 * v:.2f}%" for k, v in rates.items()
    )
    return Case(
        suite="inference",
        name=f"cuda MLP {'-'.join(map(str, LAYERS))} batch {BATCH}",
        params={"label_agreement": rates, "gpu": torch.cuda.get_device_name(0)},
        impls=impls,
        work_ops=2.0 * BATCH * sum(a * b for a, b in itertools.pairwise(LAYERS)),
        device=device,
        notes=notes,
        skipped=skipped,
        rows=BATCH,
    )


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
    out = [
        Case(
            suite="inference",
            name=f"MLP {'-'.join(map(str, LAYERS))} batch {BATCH}",
            params={"isa": get_isa(), "threads": get_num_threads(), "label_agreement": agreement},
            impls=impls,
            work_ops=flops,
            notes=f"label agreement with the float model: {100 * agreement:.2f}%",
            skipped=skipped,
            rows=BATCH,
        )
    ]
    if size == "full" and net is not None:
        gpu = _gpu_case(fast, net, x)
        if gpu is not None:
            out.append(gpu)
    return out
