"""Face fusion network: blends the generated face into the full frame.

The generated crop is pasted into its box; a light U-Net predicts a soft blending mask and a
residual correction (seams, colour, the box edge). The lower half of the box always comes from the
generated face (the mask is floored there), so the original mouth can never leak into the output.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reference_models.g4g.geometry import lower_half_mask, paste_faces
from reference_models.g4g.layers import ConvBlock


class FusionUNet(nn.Module):
    """Three-level U-Net: (pasted, coverage, masked frame, lower mask) -> (mask logit, residual)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        w = width
        self.e1 = ConvBlock(8, w, 3)
        self.e2 = ConvBlock(w, 2 * w, 3, 2)
        self.e3 = ConvBlock(2 * w, 4 * w, 3, 2)
        self.d2 = ConvBlock(4 * w + 2 * w, 2 * w, 3)
        self.d1 = ConvBlock(2 * w + w, w, 3)
        self.head = nn.Conv2d(w, 4, 3, 1, 1)
        # start from a plain paste: no residual, even mask
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h1 = self.e1(x)
        h2 = self.e2(h1)
        h3 = self.e3(h2)
        u2 = F.interpolate(h3, size=h2.shape[-2:], mode="bilinear", align_corners=False)
        u2 = self.d2(torch.cat([u2, h2], 1))
        u1 = F.interpolate(u2, size=h1.shape[-2:], mode="bilinear", align_corners=False)
        u1 = self.d1(torch.cat([u1, h1], 1))
        return self.head(u1)


class FaceFusion(nn.Module):
    """``kind='unet'``: learned mask + refinement; ``kind='paste'``: plain paste into the box."""

    def __init__(self, width: int, kind: str = "unet") -> None:
        super().__init__()
        self.kind = kind
        self.net = FusionUNet(width) if kind == "unet" else None

    def forward(self, faces: torch.Tensor, frames: torch.Tensor, boxes: torch.Tensor
                ) -> torch.Tensor:
        """(N,3,S,S) faces, (N,3,H,W) frames in [0,1], (N,4) boxes -> (N,3,H,W) fused frames."""
        h, w = frames.shape[-2:]
        pasted, cover = paste_faces(faces, boxes, h, w)
        lower = lower_half_mask(boxes, h, w)
        masked_frame = frames * (1.0 - lower)
        # outside the box the paste is the frame itself
        base = pasted + (1.0 - cover) * masked_frame
        if self.net is None:
            return base.clamp(0.0, 1.0)
        # U-Net strides need sizes divisible by 4: pad, then crop back
        ph, pw = (-h) % 4, (-w) % 4
        x = torch.cat([base, cover, masked_frame, lower], 1)
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        out = self.net(x)[..., :h, :w]
        mask = torch.maximum(torch.sigmoid(out[:, :1]), lower * cover)
        fused = mask * (base + out[:, 1:]) + (1.0 - mask) * masked_frame
        return fused.clamp(0.0, 1.0)
