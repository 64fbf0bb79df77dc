"""MFCC -> GRU -> BatchNorm -> Linear: the authors' MFCC-GRU baseline."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence

from reference_models.speech_baselines.features import mfcc_frames
from reference_models.speech_baselines.neural import TorchBinaryClassifier


def pad_batch(seqs: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-pad (T_i, F) sequences to (B, T_max, F) and return their lengths."""
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.int64)
    return pad_sequence(seqs, batch_first=True), lengths


class GruEncoder(nn.Module):
    """Packed GRU over variable-length frames; the last hidden state, batch-normalised."""

    def __init__(self, n_inputs: int, hidden: int) -> None:
        super().__init__()
        self.gru = nn.GRU(n_inputs, hidden, num_layers=1, batch_first=True)
        self.norm = nn.BatchNorm1d(hidden)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, hidden = self.gru(packed)
        return self.norm(hidden[-1])


class GruNet(nn.Module):
    def __init__(self, n_inputs: int, hidden: int) -> None:
        super().__init__()
        self.encoder = GruEncoder(n_inputs, hidden)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x, lengths)).squeeze(1)


class MfccGru(TorchBinaryClassifier):
    """GRU (1 layer) over librosa MFCC frames; Adam, BCE on logits."""

    def __init__(
        self,
        seed: int = 0,
        n_mfcc: int = 40,
        n_fft: int = 256,
        hop_length: int = 512,
        hidden: int = 32,
        epochs: int = 20,
        batch_size: int = 64,
        lr: float = 1e-4,
    ) -> None:
        super().__init__(seed=seed, epochs=epochs, batch_size=batch_size, lr=lr)
        self.n_mfcc, self.n_fft, self.hop_length, self.hidden = n_mfcc, n_fft, hop_length, hidden

    def featurise(self, waves: list[np.ndarray]) -> list[torch.Tensor]:
        return [
            torch.from_numpy(mfcc_frames(w, self.n_mfcc, self.n_fft, self.hop_length)) for w in waves
        ]

    def collate(self, items: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        return pad_batch(items)

    def build(self) -> nn.Module:
        return GruNet(self.n_mfcc, self.hidden)
