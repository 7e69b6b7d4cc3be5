"""Turn whatever model the user has into a plan: float layers, a head, and the float model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lepton.inference import from_pipeline, from_sklearn, from_torch
from lepton.inference.arrays import namespace
from lepton.inference.feature_pass import FrontPass
from lepton.inference.heads import Head, RawHead
from lepton.inference.layers import Layer, float_forward, raw_layers

SUPPORTED_MODELS = (
    "a fitted scikit-learn " + ", ".join(from_sklearn.SUPPORTED),
    "a fitted scikit-learn Pipeline of "
    + ", ".join(from_pipeline.SUPPORTED_STEPS)
    + " ending in one of those models",
    f"a torch nn.Sequential of {from_torch.SUPPORTED_LAYERS}",
    "a list of raw layers [(W (N_out, N_in), b (N_out,) or None, activation), ...]",
)


@dataclass(frozen=True)
class Plan:
    layers: list[Layer]
    head: Head
    reference: Any  # the float model: has the head's methods, takes the same x
    kind: str  # "sklearn MLPClassifier", "torch Sequential", "raw layers", ...
    front: FrontPass | None = None  # a Pipeline's per-column steps, run before the layers


class RawReference:
    """Float32 forward of raw layers behind the ``predict`` interface."""

    def __init__(self, layers: Sequence[Layer]) -> None:
        self.layers = list(layers)

    def predict(self, x: Any) -> Any:
        return float_forward(self.layers, x, namespace(x))


def make_plan(model: Any) -> Plan:
    """The plan for ``model``, or a ``TypeError`` listing what is supported."""
    if from_pipeline.is_pipeline(model):
        front, layers, head = from_pipeline.convert(model)
        names = ", ".join(type(est).__name__ for _, est in model.steps)
        return Plan(layers, head, model, f"sklearn Pipeline({names})", front)
    if from_sklearn.is_sklearn_model(model):
        converted = from_sklearn.convert(model)
        if converted is not None:
            layers, head = converted
            return Plan(layers, head, model, f"sklearn {type(model).__name__}")
    elif from_torch.is_torch_module(model):
        layers = from_torch.convert(model)
        return Plan(layers, RawHead(), from_torch.TorchReference(model), "torch Sequential")
    elif isinstance(model, (list, tuple)):
        layers = raw_layers(model)
        return Plan(layers, RawHead(), RawReference(layers), "raw layers")
    msg = f"model: {type(model).__name__} is not supported; supported: " + "; ".join(
        SUPPORTED_MODELS
    )
    raise TypeError(msg)
