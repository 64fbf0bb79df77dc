"""Inference-only SyncNet: batch norms folded into the convolutions, time folded into channels.

Every lip convolution after the first has a temporal kernel of 1, and the first one spans the
whole 5-frame window, so the 3D network is exactly a 2D network on 15-channel images (channel =
colour·5 + frame). Folding eval-mode batch norms and running 2D convolutions in channels-last
layout gives the same numbers (to float rounding) about twice as fast on CPU.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from bench.metrics.syncnet import SyncNet

__all__ = ["FrozenSyncNet"]


def _fold(conv: Any, bn: Any, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights and bias of ``bn(conv(x))`` as a single convolution (eval-mode statistics), on
    ``device``."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    w = conv.weight * scale.reshape(-1, *([1] * (conv.weight.dim() - 1)))
    b = (conv.bias - bn.running_mean) * scale + bn.bias
    return w.detach().to(device), b.detach().to(device)


class FrozenSyncNet:
    """Frozen copy of a :class:`SyncNet` for scoring; later changes to the model are not seen.

    The weights live on ``device``; inputs are moved there and embeddings come back on CPU (on
    CPU both moves are no-ops, so the numbers are those of a CPU-only build).
    """

    def __init__(self, model: SyncNet, device: str = "cpu") -> None:
        self.width = model.width
        self.device = torch.device(device)
        lip = model.netcnnlip
        self._lip = []
        for ci in (0, 4, 8, 11, 14, 18):
            w, b = _fold(lip[ci], lip[ci + 1], self.device)
            w = w.reshape(w.shape[0], -1, w.shape[-2], w.shape[-1])  # (O, C·D, kh, kw)
            self._lip.append((w.contiguous(memory_format=torch.channels_last), b))
        aud = model.netcnnaud
        self._aud = [_fold(aud[ci], aud[ci + 1], self.device) for ci in (0, 4, 8, 11, 14, 18)]
        self._fclip = self._fc(model.netfclip, self.device)
        self._fcaud = self._fc(model.netfcaud, self.device)

    @staticmethod
    def _fc(head: Any, device: torch.device
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        bn = head[1]
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        w1 = head[0].weight * scale[:, None]
        b1 = (head[0].bias - bn.running_mean) * scale + bn.bias
        w2, b2 = head[3].weight, head[3].bias
        return tuple(t.detach().to(device) for t in (w1, b1, w2, b2))  # type: ignore[return-value]

    @staticmethod
    def _head(x: torch.Tensor, p: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return F.linear(F.relu(F.linear(x, p[0], p[1])), p[2], p[3])

    def lip_features(self, x15: torch.Tensor) -> torch.Tensor:
        """Lip CNN features from N×15×224×224 windows (channel = colour·5 + frame), on the
        network's device."""
        (w0, b0), (w1, b1), (w2, b2), (w3, b3), (w4, b4), (w5, b5) = self._lip
        x15 = x15.to(self.device)
        with torch.inference_mode():
            h = F.relu_(F.conv2d(x15.contiguous(memory_format=torch.channels_last), w0, b0, stride=2))
            h = F.max_pool2d(h, 3, 2)
            h = F.relu_(F.conv2d(h, w1, b1, stride=2, padding=1))
            h = F.max_pool2d(h, 3, 2, padding=1)
            h = F.relu_(F.conv2d(h, w2, b2, padding=1))
            h = F.relu_(F.conv2d(h, w3, b3, padding=1))
            h = F.relu_(F.conv2d(h, w4, b4, padding=1))
            h = F.max_pool2d(h, 3, 2)
            h = F.relu_(F.conv2d(h, w5, b5))
            return h.reshape(h.shape[0], -1)

    def lip(self, x15: torch.Tensor) -> torch.Tensor:
        """Lip embeddings (on CPU) from N×15×224×224 windows."""
        with torch.inference_mode():
            return self._head(self.lip_features(x15), self._fclip).cpu()

    def aud(self, mfcc: torch.Tensor) -> torch.Tensor:
        """Audio embeddings (on CPU) from N×1×13×20 MFCC windows."""
        (w0, b0), (w1, b1), (w2, b2), (w3, b3), (w4, b4), (w5, b5) = self._aud
        mfcc = mfcc.to(self.device)
        with torch.inference_mode():
            h = F.relu(F.conv2d(mfcc, w0, b0, padding=1))
            h = F.relu_(F.conv2d(h, w1, b1, padding=1))
            h = F.max_pool2d(h, 3, (1, 2))
            h = F.relu_(F.conv2d(h, w2, b2, padding=1))
            h = F.relu_(F.conv2d(h, w3, b3, padding=1))
            h = F.relu_(F.conv2d(h, w4, b4, padding=1))
            h = F.max_pool2d(h, 3, 2)
            h = F.relu_(F.conv2d(h, w5, b5))
            return self._head(h.reshape(h.shape[0], -1), self._fcaud).cpu()
