"""A small seeded CPU training loop shared by the neural baselines.

Subclasses say how to turn waveforms into per-segment items, how to batch items into model
inputs and how to build the network; this class owns seeding, the epoch loop and the NaN-row
rule for invalid segments.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from reference_models.speech_baselines.features import training_waveforms, waveforms


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """One torch thread and torch's deterministic algorithms, then restore both settings.

    Feature extraction runs inside too: a reduction split over another number of threads sums
    in another order, and training turns such last-bit differences into other predictions.
    """
    before = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(deterministic)
        torch.set_num_threads(before)


class TorchBinaryClassifier:
    """fit / predict_proba around a network that outputs one logit per segment."""

    def __init__(self, seed: int, epochs: int, batch_size: int, lr: float) -> None:
        self.seed = seed
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.model_: nn.Module | None = None
        self.loss_history_: list[float] = []

    # --- what subclasses provide -------------------------------------------------------
    def featurise(self, waves: list[np.ndarray]) -> list[Any]:
        """One item per (valid) waveform."""
        raise NotImplementedError

    def collate(self, items: list[Any]) -> tuple[Any, ...]:
        """Model inputs for a batch of items."""
        raise NotImplementedError

    def build(self) -> nn.Module:
        """A fresh network; called after the seed is set."""
        raise NotImplementedError

    # --- shared loop -----------------------------------------------------------------------
    def fit(self, segments: Sequence[Any], labels: Any) -> TorchBinaryClassifier:
        """Train with Adam and binary cross-entropy on logits for ``epochs`` epochs."""
        waves, y = training_waveforms(segments, labels)
        target = torch.as_tensor(y, dtype=torch.float32)
        # fork_rng: seeding here must not change the caller's global torch random state.
        with single_thread(), torch.random.fork_rng(devices=[]):
            items = self.featurise(waves)
            torch.manual_seed(self.seed)
            order_rng = torch.Generator().manual_seed(self.seed)
            model = self.build()
            optimiser = torch.optim.Adam(model.parameters(), lr=self.lr)
            loss_fn = nn.BCEWithLogitsLoss()
            model.train()
            self.loss_history_ = []
            for _ in range(self.epochs):
                order = torch.randperm(len(items), generator=order_rng).tolist()
                total, count = 0.0, 0
                for start in range(0, len(order), self.batch_size):
                    idx = order[start : start + self.batch_size]
                    if len(idx) < 2:  # BatchNorm cannot normalise a batch of one
                        continue
                    optimiser.zero_grad()
                    logits = model(*self.collate([items[i] for i in idx]))
                    loss = loss_fn(logits, target[idx])
                    loss.backward()
                    optimiser.step()
                    total += loss.item() * len(idx)
                    count += len(idx)
                self.loss_history_.append(total / max(count, 1))
            model.eval()
        self.model_ = model
        return self

    def predict_proba(self, segments: Sequence[Any]) -> np.ndarray:
        """(n, 2) probabilities, column 1 = P(voiced); NaN rows for empty or non-finite segments."""
        if self.model_ is None:
            raise RuntimeError(f"{type(self).__name__}.predict_proba called before fit")
        waves, ok = waveforms(segments)
        out = np.full((len(waves), 2), np.nan)
        good = np.flatnonzero(ok)
        if good.size:
            probs = []
            with single_thread(), torch.no_grad():
                items = self.featurise([waves[i] for i in good])
                # One segment per forward pass: a segment's probability must not depend on
                # which others the caller batched it with (kernels block by batch size).
                for item in items:
                    logits = self.model_(*self.collate([item]))
                    probs.append(torch.sigmoid(logits).double().numpy())
            p = np.concatenate(probs)
            out[good, 1] = p
            out[good, 0] = 1.0 - p
        return out
