"""A patch discriminator on the lower half of face crops: the adversarial term that sharpens the
generated mouth (an L1/perceptual regression alone averages uncertain mouth shapes into a blur)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class MouthDiscriminator(nn.Module):
    """(N,3,S/2,S) lower faces in [0, 1] -> (N,1,h,w) realism logits, one per patch.

    Spectral norm on every conv keeps the critic Lipschitz, which is what lets a small CPU run
    train it beside the generator without a tuned schedule."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        w = width
        chans = [(3, w), (w, 2 * w), (2 * w, 4 * w)]
        self.down = nn.ModuleList(spectral_norm(nn.Conv2d(a, b, 4, 2, 1)) for a, b in chans)
        self.head = spectral_norm(nn.Conv2d(4 * w, 1, 3, 1, 1))

    def forward(self, lower: torch.Tensor) -> torch.Tensor:
        h = lower * 2.0 - 1.0
        for conv in self.down:
            h = F.leaky_relu(conv(h), 0.2)
        return self.head(h)


def lower_half(faces: torch.Tensor) -> torch.Tensor:
    """The lower half of (N, 3, S, S) face crops, where the generated mouth is."""
    return faces[..., faces.shape[-2] // 2:, :]


def d_loss(disc: MouthDiscriminator, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Least-squares GAN loss of the discriminator: real patches to 1, generated to 0."""
    return ((disc(real) - 1.0) ** 2).mean() + (disc(fake.detach()) ** 2).mean()


def g_loss(disc: MouthDiscriminator, fake: torch.Tensor) -> torch.Tensor:
    """Least-squares GAN loss of the generator: its patches judged real."""
    return ((disc(fake) - 1.0) ** 2).mean()
