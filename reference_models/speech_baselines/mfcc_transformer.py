"""MFCC -> one Transformer encoder layer -> masked mean pool -> Linear."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from reference_models.speech_baselines.features import mfcc_frames
from reference_models.speech_baselines.mfcc_gru import pad_batch
from reference_models.speech_baselines.neural import TorchBinaryClassifier


def sinusoidal_encoding(length: int, d_model: int) -> torch.Tensor:
    """The fixed sine/cosine position table of Vaswani et al., shape (length, d_model)."""
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    table = torch.zeros(length, d_model)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq[: d_model // 2])
    return table


class TransformerNet(nn.Module):
    def __init__(self, d_model: int, heads: int, layers: int, ffn: int, dropout: float) -> None:
        super().__init__()
        layer = nn.TransformerEncoderLayer(
            d_model, heads, dim_feedforward=ffn, dropout=dropout, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, 1)
        self.d_model = d_model

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        steps = x.shape[1]
        pad = torch.arange(steps)[None, :] >= lengths[:, None]  # True where padded
        h = self.encoder(x + sinusoidal_encoding(steps, self.d_model), src_key_padding_mask=pad)
        keep = (~pad).unsqueeze(-1).to(h.dtype)
        pooled = (h * keep).sum(1) / keep.sum(1)  # mean over real frames only
        return self.head(pooled).squeeze(1)


class MfccTransformer(TorchBinaryClassifier):
    """Transformer encoder over MFCC frames (d_model = n_mfcc = 40); Adam, BCE on logits."""

    def __init__(
        self,
        seed: int = 0,
        n_mfcc: int = 40,
        n_fft: int = 256,
        hop_length: int = 512,
        heads: int = 4,
        layers: int = 1,
        ffn: int = 160,
        dropout: float = 0.1,
        epochs: int = 20,
        batch_size: int = 64,
        lr: float = 1e-4,
    ) -> None:
        super().__init__(seed=seed, epochs=epochs, batch_size=batch_size, lr=lr)
        self.n_mfcc, self.n_fft, self.hop_length = n_mfcc, n_fft, hop_length
        self.heads, self.layers, self.ffn, self.dropout = heads, layers, ffn, dropout

    def featurise(self, waves: list[np.ndarray]) -> list[torch.Tensor]:
        return [
            torch.from_numpy(mfcc_frames(w, self.n_mfcc, self.n_fft, self.hop_length)) for w in waves
        ]

    def collate(self, items: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        return pad_batch(items)

    def build(self) -> nn.Module:
        return TransformerNet(self.n_mfcc, self.heads, self.layers, self.ffn, self.dropout)
