"""TopGRU: an MFCC-GRU whose pooled state is joined by one topological number, the lifetime.

The lifetime pipeline (the authors' TopGRU variant, different from TopCap's feature):
peak-normalise the segment; take the period T (samples) of the highest local maximum of the
one-sided FFT magnitude; delay tau = round(6 T / M) with M = 100 (tau*M > N -> floor(N/M);
0 -> 1); circular time-delay embedding x_i = (s[i], s[(i+tau) mod N], ..., s[(i+(M-1)tau) mod N])
at 200 start positions i from np.linspace(0, N-1, 200) (all N when N <= 200); Vietoris-Rips H1
with giotto-ph; the largest death - birth.
"""

from __future__ import annotations

import gph
import numpy as np
import torch
from joblib import Parallel, delayed
from torch import nn

from reference_models.speech_baselines.features import mfcc_frames, peak_normalise
from reference_models.speech_baselines.mfcc_gru import GruEncoder, pad_batch
from reference_models.speech_baselines.neural import TorchBinaryClassifier

EMBED_DIM = 100
N_POINTS = 200
DELAY_FACTOR = 6


def fft_period(wave: np.ndarray) -> float:
    """Period in samples of the strongest local peak of the one-sided spectrum (1 if none)."""
    n = len(wave)
    mag = np.abs(np.fft.fft(wave))[: n // 2][1:]  # one side, DC dropped
    freq = np.fft.fftfreq(n)[: n // 2][1:]
    if len(mag) < 3:
        return 1.0
    inner = mag[1:-1]
    peaks = np.flatnonzero((inner > mag[:-2]) & (inner > mag[2:])) + 1
    if peaks.size == 0:
        return 1.0
    return float(1.0 / freq[peaks[np.argmax(mag[peaks])]])


def delay_for(wave: np.ndarray, embed_dim: int = EMBED_DIM) -> int:
    """tau = round(6 T / M), shrunk to floor(N / M) when the window would exceed N, at least 1."""
    tau = round(fft_period(wave) * DELAY_FACTOR / embed_dim)
    if tau * embed_dim > len(wave):
        tau = len(wave) // embed_dim
    return max(tau, 1)


def circular_embedding(
    wave: np.ndarray, tau: int, embed_dim: int = EMBED_DIM, n_points: int = N_POINTS
) -> np.ndarray:
    """Points (s[i], s[(i+tau) mod N], ...) for start indices spread evenly by np.linspace."""
    n = len(wave)
    if n <= n_points:
        starts = np.arange(n)
    else:
        starts = np.linspace(0, n - 1, num=n_points, dtype=int)
    idx = (starts[:, None] + tau * np.arange(embed_dim)[None, :]) % n
    return wave[idx]


def lifetime(wave: np.ndarray, embed_dim: int = EMBED_DIM, n_points: int = N_POINTS) -> float:
    """Lifetime of the most persistent H1 point; 0.0 for segments shorter than embed_dim or no H1."""
    if len(wave) < embed_dim:
        return 0.0
    s = peak_normalise(np.asarray(wave, dtype=np.float64))
    points = circular_embedding(s, delay_for(s, embed_dim), embed_dim, n_points)
    dgm = gph.ripser_parallel(points, maxdim=1, n_threads=1)["dgms"][1]
    if len(dgm) == 0:
        return 0.0
    finite = dgm[np.isfinite(dgm[:, 1])]
    return float((finite[:, 1] - finite[:, 0]).max()) if len(finite) else 0.0


class TopGruNet(nn.Module):
    """GRU encoder (BatchNorm on the last state) joined with the lifetime, then one Linear."""

    def __init__(self, n_inputs: int, hidden: int) -> None:
        super().__init__()
        self.encoder = GruEncoder(n_inputs, hidden)
        self.head = nn.Linear(hidden + 1, 1)
        # The authors' initialisation: orthogonal GRU weights, Xavier-normal head, zero biases.
        for name, p in self.encoder.gru.named_parameters():
            (nn.init.orthogonal_ if "weight" in name else nn.init.zeros_)(p)
        nn.init.xavier_normal_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor, life: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([self.encoder(x, lengths), life[:, None]], dim=1)).squeeze(1)


class TopGru(TorchBinaryClassifier):
    """MFCC-GRU (hidden 6) + TopCap lifetime -> Linear(1); Adam 1e-3, batch 128, 30 epochs."""

    def __init__(
        self,
        seed: int = 0,
        n_mfcc: int = 40,
        n_fft: int = 256,
        hop_length: int = 512,
        hidden: int = 6,
        embed_dim: int = EMBED_DIM,
        n_points: int = N_POINTS,
        epochs: int = 30,
        batch_size: int = 128,
        lr: float = 1e-3,
        n_jobs: int = 1,
    ) -> None:
        super().__init__(seed=seed, epochs=epochs, batch_size=batch_size, lr=lr)
        self.n_mfcc, self.n_fft, self.hop_length, self.hidden = n_mfcc, n_fft, hop_length, hidden
        self.embed_dim, self.n_points = embed_dim, n_points
        self.n_jobs = n_jobs  # processes for the lifetimes; the values do not depend on it

    def lifetimes(self, waves: list[np.ndarray]) -> list[float]:
        """The lifetime of every waveform, spread over ``n_jobs`` processes (the costly part)."""
        if self.n_jobs == 1 or len(waves) < 64:
            return [lifetime(w, self.embed_dim, self.n_points) for w in waves]
        jobs = (delayed(lifetime)(w, self.embed_dim, self.n_points) for w in waves)
        return list(Parallel(n_jobs=self.n_jobs, batch_size=32)(jobs))

    def featurise(self, waves: list[np.ndarray]) -> list[tuple[torch.Tensor, float]]:
        # The authors feed the peak-normalised segment to both branches.
        normalised = [peak_normalise(w) for w in waves]
        lives = self.lifetimes(normalised)
        return [
            (torch.from_numpy(mfcc_frames(s, self.n_mfcc, self.n_fft, self.hop_length)), life)
            for s, life in zip(normalised, lives)
        ]

    def collate(self, items: list[tuple[torch.Tensor, float]]) -> tuple[torch.Tensor, ...]:
        x, lengths = pad_batch([m for m, _ in items])
        return x, lengths, torch.tensor([life for _, life in items], dtype=torch.float32)

    def build(self) -> nn.Module:
        return TopGruNet(self.n_mfcc, self.hidden)
