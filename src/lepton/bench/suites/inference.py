"""Benchmark suite ``inference``: ``Lepton(model).predict`` against the model's own predict.

The model is the issue's MLP 784-1024-1024-10 (ReLU), briefly trained on structured synthetic
data so that its class scores are not near-ties (random weights make label agreement a coin
toss on rows whose top two scores differ by less than the quantization step). Batch 4096 rows.
CPU peers: scikit-learn's own ``predict`` (float32 weights when trained on float32 data); where
torch is installed, the same network as a torch float32 ``nn.Sequential`` under
``torch.inference_mode`` — its fastest float CPU path — and as torch's dynamic-quantized int8
network (``quantize_dynamic``, the int8 path a torch CPU user would pick; engine named in the
row). Label agreement with the float model goes in the case notes.

A second CPU case is a scikit-learn ``Pipeline`` as people fit them: StandardScaler → PCA(128)
→ MLPClassifier(256) on the same data, batch 4096, ``Lepton(pipeline).predict`` against the
pipeline's own ``predict`` (the scaler, a pure per-column affine map, is applied by the first
int8 layer while it quantizes each row — no separate pass over the host input; the PCA, wider
than the hidden layer is narrow, stays an int8 layer: see ``lepton.inference.from_pipeline``).

At ``size="full"`` with a GPU (CUDA build, torch with CUDA), the MLP also runs on ``cuda:0`` at
batch 4096, 32 and 1, on torch CUDA tensors (labels returned on the device):

- lepton as shipped: ``Lepton(model, calibration=...)`` (static scales from 1024 rows, so each
  layer hands int8 to the next when calibration keeps it; see ``calibration_.cuda_mode``, in
  the row name) and ``Lepton(model)`` (per-row dynamic scales), both replaying a CUDA graph
  from their second call (``cuda_graph="auto"``); the hand-off model with
  ``check_finite=False`` (no host synchronisation per call); and the hand-off model eager
  (``cuda_graph=False``), to show what the graph saves;
- torch float16 and float32 ``nn.Sequential`` under ``inference_mode`` (eager), and torch
  float16 captured in a CUDA graph (``torch.cuda.graph``: copy into the static input, replay,
  clone the static labels — the same work lepton's replay does), reported beside its eager
  time as users of graphs run it. torch.compile is left out: its first compile costs tens of
  seconds of a 10-minute device call and every batch size recompiles.

Seconds and joules per 1M rows come with each implementation (``Case.rows``); label agreement
with torch float32 goes in the notes.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np

from lepton import get_isa, get_num_threads
from lepton.bench.case import Case, Impl
from lepton.bench.suites.gemm import torch_call, torch_dynamic_quantized

LAYERS = (784, 1024, 1024, 10)
BATCH = 4096
PIPELINE_COMPONENTS = 128
PIPELINE_HIDDEN = 256
GPU_BATCHES = (4096, 32, 1)
CALIBRATION_ROWS = 1024
# The documented bar (issue 14, README's "label agreement" column): the int8 model predicts the
# float model's label on at least this share of rows. Reported in each case's params.
LABEL_AGREEMENT_BAR = 0.99


def _data(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=6000,
        n_features=LAYERS[0],
        n_informative=min(64, LAYERS[0] // 2),
        n_classes=LAYERS[-1],
        n_clusters_per_class=1,
        random_state=int(rng.integers(1 << 31)),
    )
    return x.astype(np.float32), y


def _fit(model: Any, x: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(x, y)


def _trained_mlp(x: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.neural_network import MLPClassifier

    return _fit(MLPClassifier(hidden_layer_sizes=LAYERS[1:-1], max_iter=3, random_state=0), x, y)


def _trained_pipeline(x: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.decomposition import PCA
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(
        StandardScaler(),
        PCA(n_components=PIPELINE_COMPONENTS, random_state=0),
        MLPClassifier(hidden_layer_sizes=(PIPELINE_HIDDEN,), max_iter=20, random_state=0),
    )
    return _fit(pipe, x, y)


def _mlp_layers(model: Any) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    last = len(model.coefs_) - 1
    return [
        (np.ascontiguousarray(w.T), b, i < last)
        for i, (w, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True))
    ]


def _torch_peer(model: Any) -> tuple[Any, str]:
    try:
        import torch
    except ImportError:
        return None, "torch not installed"
    layers: list = []
    for w, b, relu in _mlp_layers(model):
        linear = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.astype(np.float32)))
            linear.bias.copy_(torch.from_numpy(b.astype(np.float32)))
        layers.append(linear)
        if relu:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers).eval(), ""


def _agreement_notes(rates: dict[str, float], against: str) -> str:
    return f"label agreement with {against}: " + ", ".join(
        f"{k} {100 * v:.2f}%" for k, v in rates.items()
    )


def _mlp_case(model: Any, x: np.ndarray, net: Any, why: str) -> Case:
    from lepton import Lepton

    fast = Lepton(model)
    reference = model.predict(x)
    rates = {"lepton int8": float(np.mean(fast.predict(x) == reference))}
    impls = [
        Impl("lepton int8 predict", lambda: fast.predict(x), is_lepton=True),
        Impl("sklearn predict", lambda: model.predict(x)),
    ]
    skipped = {}
    if net is None:
        skipped["torch f32"] = why
    else:
        logits = torch_call(net, x)
        impls.append(Impl("torch f32 (inference_mode)", lambda: logits().argmax(dim=1)))
    dynamic, engine = torch_dynamic_quantized(_mlp_layers(model))
    if dynamic is None:
        skipped["torch dynamic-quant int8"] = engine
    else:
        q_logits = torch_call(dynamic, x)
        labels = model.classes_[q_logits().argmax(dim=1).numpy()]
        rates[f"torch dynamic-quant int8 ({engine})"] = float(np.mean(labels == reference))
        impls.append(Impl(f"torch dynamic-quant int8 ({engine})", lambda: q_logits().argmax(dim=1)))
    flops = 2.0 * BATCH * sum(a * b for a, b in itertools.pairwise(LAYERS))
    return Case(
        suite="inference",
        name=f"MLP {'-'.join(map(str, LAYERS))} batch {BATCH}",
        params={"isa": get_isa(), "threads": get_num_threads(), "label_agreement": rates},
        impls=impls,
        work_ops=flops,
        notes=_agreement_notes(rates, "the float model"),
        skipped=skipped,
        rows=BATCH,
    )


def _pipeline_case(pipe: Any, x: np.ndarray) -> Case:
    from lepton import Lepton

    fast = Lepton(pipe)
    agreement = float(np.mean(fast.predict(x) == pipe.predict(x)))
    widths = [fast.n_features_in_, *(q.n_out for q in fast.layers_)]
    steps = "-".join(type(est).__name__ for _, est in pipe.steps)
    front = fast.plan_.front
    if front is None:
        scaling = "no scaling pass"
    elif front.column_map(x.dtype) is not None:
        scaling = "the scaling fused into the first layer's row quantization"
    else:
        scaling = "one fused scaling pass before them"
    return Case(
        suite="inference",
        name=f"Pipeline {steps} batch {BATCH}",
        params={
            "isa": get_isa(),
            "threads": get_num_threads(),
            "label_agreement": agreement,
            "int8 layers": "-".join(map(str, widths)),
        },
        impls=[
            Impl("lepton int8 predict (Pipeline)", lambda: fast.predict(x), is_lepton=True),
            Impl("sklearn Pipeline predict", lambda: pipe.predict(x)),
        ],
        work_ops=2.0 * BATCH * sum(a * b for a, b in itertools.pairwise(widths)),
        notes=f"label agreement with the float pipeline: {100 * agreement:.2f}%; "
        f"int8 layers {'-'.join(map(str, widths))}, {scaling}",
        rows=BATCH,
    )


# --- the GPU cases -----------------------------------------------------------------------------


def _torch_graphed_labels(torch: Any, net: Any, source: Any) -> Any:
    """``net(source).argmax(1)`` replayed from a CUDA graph: copy in, replay, clone out."""
    static_x = source.clone()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side), torch.inference_mode():
        for _ in range(3):  # warm-up on a side stream, as torch's graph notes ask
            net(static_x).argmax(dim=1)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.inference_mode(), torch.cuda.graph(graph):
        static_labels = net(static_x).argmax(dim=1)

    def run() -> Any:
        with torch.inference_mode():
            static_x.copy_(source)
            graph.replay()
            return static_labels.clone()

    return run


def _lepton_gpu_models(model: Any, sample: np.ndarray) -> dict[str, Any]:
    from lepton import Lepton

    calibrated = Lepton(model, calibration=sample)
    mode = "int8 hand-off" if calibrated.calibration_.cuda_mode == "static" else "dynamic"
    return {
        f"lepton int8 graph, {mode}": calibrated,
        "lepton int8 graph, dynamic scales": Lepton(model),
        f"lepton int8 graph, {mode}, check_finite=False": Lepton(
            model, calibration=sample, check_finite=False
        ),
        f"lepton int8 eager, {mode}": Lepton(model, calibration=sample, cuda_graph=False),
    }


def _gpu_cases(model: Any, net: Any, x: np.ndarray, sample: np.ndarray) -> list[Case]:
    """Lepton int8 on torch device input vs torch float16/float32 on the GPU, per batch."""
    from lepton.bench.suites.gemm_cuda import available

    if not available():
        return []
    import copy

    import torch

    device = "cuda:0"
    net32 = copy.deepcopy(net).to(device).eval()
    net16 = copy.deepcopy(net).to(device).half().eval()
    sync = torch.cuda.synchronize
    leps = _lepton_gpu_models(model, sample)
    out = []
    for batch in GPU_BATCHES:
        xt = torch.from_numpy(np.ascontiguousarray(x[:batch])).to(device)
        xt16 = xt.half()

        def eager(net_: Any, inputs: Any) -> Any:
            with torch.inference_mode():
                return net_(inputs).argmax(dim=1)

        reference = eager(net32, xt)
        graphed16 = _torch_graphed_labels(torch, net16, xt16)
        impls = [
            Impl(name, lambda lep=lep, xt=xt: lep.predict(xt), is_lepton=True, sync=sync)
            for name, lep in leps.items()
        ]
        impls += [
            Impl("torch f16 (inference_mode)", lambda xt16=xt16: eager(net16, xt16), sync=sync),
            Impl("torch f16 CUDA graph", graphed16, sync=sync),
            Impl("torch f32 (inference_mode)", lambda xt=xt: eager(net32, xt), sync=sync),
        ]
        # Each called twice: the second call of a shape captures lepton's graph ("auto").
        labels = {
            impl.name: (impl.run(), impl.run())[1] for impl in impls if "f32" not in impl.name
        }
        rates = {
            k: float((torch.as_tensor(v, device=device).long() == reference).float().mean())
            for k, v in labels.items()
        }
        captured = {name: lep.cuda_graphs_["captures"] for name, lep in leps.items()}
        out.append(
            Case(
                suite="inference",
                name=f"cuda MLP {'-'.join(map(str, LAYERS))} batch {batch}",
                params={
                    "label_agreement": rates,
                    "gpu": torch.cuda.get_device_name(0),
                    "graphs_captured": captured,
                },
                impls=impls,
                work_ops=2.0 * batch * sum(a * b for a, b in itertools.pairwise(LAYERS)),
                device=device,
                notes=_agreement_notes(rates, "torch f32 on the GPU"),
                skipped={"torch.compile": "not used: compile time and recompiles per batch"},
                rows=batch,
            )
        )
    return out


def cases(size: str) -> list[Case]:
    rng = np.random.default_rng(0)
    pool, y = _data(rng)
    model = _trained_mlp(pool, y)
    noise = rng.normal(0, 0.05, (BATCH, LAYERS[0])).astype(np.float32)
    x = pool[rng.integers(0, len(pool), BATCH)] + noise
    net, why = _torch_peer(model)
    out = [_mlp_case(model, x, net, why), _pipeline_case(_trained_pipeline(pool, y), x)]
    if size == "full" and net is not None:
        sample = pool[rng.integers(0, len(pool), CALIBRATION_ROWS)]
        out += _gpu_cases(model, net, x, sample)
    return out
