"""A torch ``nn.Sequential`` of Linear layers and activations as dense layers.

torch is optional: this module is imported only when the model is a torch module.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lepton.inference.layers import Layer, check_chain, make_layer

SUPPORTED_LAYERS = "Linear, ReLU, GELU(approximate='none'), Sigmoid, Tanh, Identity, Dropout"


def is_torch_module(model: Any) -> bool:
    return type(model).__module__.split(".")[0] == "torch"


def convert(model: Any) -> list[Layer]:
    import torch
    from torch import nn

    if not isinstance(model, nn.Sequential):
        msg = (
            f"model: torch {type(model).__name__} is not supported; pass an nn.Sequential "
            f"of {SUPPORTED_LAYERS}"
        )
        raise TypeError(msg)
    activations = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.GELU: "gelu"}
    layers: list[Layer] = []
    pending: tuple[Any, Any] | None = None  # a Linear waiting to learn its activation
    pending_path = ""
    for path, module in _leaves(model):
        if isinstance(module, nn.Linear):
            if pending is not None:
                layers.append(make_layer(*pending, None, name=f"model{pending_path}"))
            with torch.no_grad():
                w = module.weight.detach().float().cpu().numpy()
                b = None if module.bias is None else module.bias.detach().float().cpu().numpy()
            pending, pending_path = (w, b), path
        elif type(module) in activations:
            if isinstance(module, nn.GELU) and module.approximate != "none":
                msg = f"model{path}: GELU(approximate={module.approximate!r}) is not supported; "
                msg += "the int8 epilogue computes the exact GELU (approximate='none')"
                raise TypeError(msg)
            if pending is None:
                msg = f"model{path}: {type(module).__name__} must follow a Linear layer"
                raise TypeError(msg)
            layers.append(make_layer(*pending, activations[type(module)], name=f"model{path}"))
            pending = None
        elif not isinstance(module, (nn.Identity, nn.Dropout)):  # both are no-ops at inference
            msg = (
                f"model{path}: layer {type(module).__name__} is not supported; supported: "
                f"{SUPPORTED_LAYERS}"
            )
            raise TypeError(msg)
    if pending is not None:
        layers.append(make_layer(*pending, None, name=f"model{pending_path}"))
    if not layers:
        msg = "model: the nn.Sequential has no Linear layer"
        raise ValueError(msg)
    check_chain(layers)
    return layers


def _leaves(model: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(``[i]`` path, module) for every non-Sequential module, nested Sequentials flattened."""
    from torch import nn

    for name, module in model.named_children():
        path = f"{prefix}[{name}]"
        if isinstance(module, nn.Sequential):
            yield from _leaves(module, path)
        else:
            yield path, module


class TorchReference:
    """The float torch model behind the ``predict`` interface, for comparisons."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, x: Any) -> Any:
        import numpy as np
        import torch

        param = next(self.model.parameters())
        on_host = isinstance(x, np.ndarray)
        t = torch.from_numpy(x) if on_host else torch.from_dlpack(x)
        t = t.to(device=param.device, dtype=param.dtype)
        training = self.model.training
        self.model.eval()  # Dropout is a no-op at inference, as in the int8 path
        try:
            with torch.no_grad():
                out = self.model(t).float()
        finally:
            self.model.train(training)
        if on_host:
            return out.cpu().numpy()
        import cupy

        return cupy.from_dlpack(out)
