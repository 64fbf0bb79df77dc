"""STFT magnitude image -> small CNN: the authors' STFT-CNN-8 / STFT-CNN-16 baselines.

The spectrogram follows TensorFlow's ``tf.signal.stft(frame_length=255, frame_step=128)`` on
audio zero-padded or cut to 16000 samples (FFT length 256, periodic Hann window, no centring),
then ``tf.image.resize`` (bilinear, half-pixel centres) to size x size.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from reference_models.speech_baselines.neural import TorchBinaryClassifier

FRAME_LENGTH = 255
FRAME_STEP = 128
FFT_LENGTH = 256
FIXED_SAMPLES = 16000


def stft_image(waves: list[np.ndarray], size: int) -> torch.Tensor:
    """(B, 1, size, size) resized STFT magnitudes (time on the first image axis, as in TF)."""
    batch = torch.zeros(len(waves), FIXED_SAMPLES)
    for i, w in enumerate(waves):
        n = min(len(w), FIXED_SAMPLES)
        batch[i, :n] = torch.from_numpy(np.asarray(w[:n], dtype=np.float32))
    window = torch.hann_window(FRAME_LENGTH, periodic=True)
    spec = torch.stft(
        batch, n_fft=FFT_LENGTH, hop_length=FRAME_STEP, win_length=FRAME_LENGTH,
        window=window, center=False, return_complex=True,
    ).abs()  # (B, bins, frames)
    image = spec.transpose(1, 2).unsqueeze(1)  # (B, 1, frames, bins)
    return F.interpolate(image, size=(size, size), mode="bilinear", align_corners=False)


class CnnNet(nn.Module):
    """3 x [Conv 3x3 'same' + ReLU + MaxPool 2] (pool only while the map is at least 2 wide)."""

    def __init__(self, size: int, channels: tuple[int, ...] = (64, 128, 256), dense: int = 64) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width, prev = size, 1
        for ch in channels:
            layers += [nn.Conv2d(prev, ch, 3, padding=1), nn.ReLU()]
            if width >= 2:
                layers.append(nn.MaxPool2d(2))
                width //= 2
            prev = ch
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(prev * width * width, dense), nn.ReLU(), nn.Linear(dense, 1)
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(image)).squeeze(1)


class StftCnn(TorchBinaryClassifier):
    """CNN on an 8x8 or 16x16 STFT image; Adam 1e-3 (Keras default), binary cross-entropy."""

    def __init__(
        self,
        size: int = 8,
        seed: int = 0,
        epochs: int = 10,
        batch_size: int = 64,
        lr: float = 1e-3,
    ) -> None:
        if size not in (8, 16):
            raise ValueError(f"StftCnn size must be 8 or 16, got {size}")
        super().__init__(seed=seed, epochs=epochs, batch_size=batch_size, lr=lr)
        self.size = size

    def featurise(self, waves: list[np.ndarray]) -> list[torch.Tensor]:
        images: list[torch.Tensor] = []
        for start in range(0, len(waves), 256):
            images.extend(stft_image(waves[start : start + 256], self.size))
        return images

    def collate(self, items: list[torch.Tensor]) -> tuple[torch.Tensor]:
        return (torch.stack(items),)

    def build(self) -> nn.Module:
        return CnnNet(self.size)
