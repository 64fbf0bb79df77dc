"""The face generator: intra-modal alignment (AdaIN) + mask-gated multi-scale AdaAT + decoder."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reference_models.g4g.configs import G4GConfig
from reference_models.g4g.geometry import region_masks
from reference_models.g4g.layers import AdaAT, AdaINResBlock, ConvBlock, ResBlock


class FaceEncoder(nn.Module):
    """RGB face -> features at 1, 1/2, 1/4 and 1/8 of the crop size."""

    def __init__(self, cin: int, w: int) -> None:
        super().__init__()
        self.s1 = ConvBlock(cin, w, 5)
        self.s2 = nn.Sequential(ConvBlock(w, 2 * w, 3, 2), ResBlock(2 * w))
        self.s3 = nn.Sequential(ConvBlock(2 * w, 4 * w, 3, 2), ResBlock(4 * w))
        self.s4 = nn.Sequential(ConvBlock(4 * w, 8 * w, 3, 2), ResBlock(8 * w))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        f1 = self.s1(x)
        f2 = self.s2(f1)
        f3 = self.s3(f2)
        return [f1, f2, f3, self.s4(f3)]


class UpBlock(nn.Module):
    """Upsample x2, concatenate the skip features, fuse with two convs."""

    def __init__(self, cin: int, cskip: int, cout: int) -> None:
        super().__init__()
        self.fuse = nn.Sequential(ConvBlock(cin + cskip, cout, 3), ConvBlock(cout, cout, 3))

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.fuse(torch.cat([x, skip], dim=1))


class G4GGenerator(nn.Module):
    """Generates the face from its lower-half-masked self, a reference face and an audio code.

    1. Intra-modal alignment: features of the masked face take the statistics of the reference
       features through AdaIN residual blocks (the reference stands in for the landmark prior,
       which the embedded data has no detector for).
    2. A code p = [image code, audio code] drives AdaAT warps of the reference features at the
       1/8, 1/4 and 1/2 scales; each warp is gated by one region mask (``cfg.mask_scales``).
    3. A U-Net decoder joins the aligned features, the warped reference features and the audio
       code; its output mixes, per pixel, the masked input, the reference and new colour
       (softmax weights), so the face stays in [0, 1].
    """

    def __init__(self, cfg: G4GConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.src_enc = FaceEncoder(3, w)
        self.ref_enc = FaceEncoder(3, w)
        self.intra = nn.ModuleList([AdaINResBlock(8 * w) for _ in range(cfg.n_adain_blocks)])
        code = 8 * w
        self.audio_proj = nn.Sequential(nn.Linear(cfg.embed_dim, code), nn.ReLU(),
                                        nn.Linear(code, code))
        self.image_proj = nn.Linear(16 * w, code)
        # warps at 1/8, 1/4, 1/2 of the crop (coarse -> fine), one mask each
        self.warps = nn.ModuleList([AdaAT(2 * code, 8 * w), AdaAT(2 * code, 4 * w),
                                    AdaAT(2 * code, 2 * w)])
        masks = region_masks(cfg.face_size)
        for i, name in enumerate(cfg.mask_scales):
            size = cfg.face_size // (8 >> i)
            m = F.interpolate(masks[name], size=(size, size), mode="area")
            self.register_buffer(f"mask{i}", m, persistent=False)
        self.register_buffer("mouth_full", masks["mouth"], persistent=False)
        self.bottleneck = nn.Sequential(ConvBlock(16 * w + code, 8 * w, 3), ResBlock(8 * w))
        self.up3 = UpBlock(8 * w, 8 * w, 4 * w)   # to 1/4: skip = masked + warped ref
        self.up2 = UpBlock(4 * w, 4 * w, 2 * w)   # to 1/2
        self.up1 = UpBlock(2 * w, w, w)           # to full: skip = masked features
        # colour + 3 blend logits: the face is a per-pixel convex mix of the masked input (exact
        # upper half), the reference face and newly generated colour, so training starts from a
        # copy of the reference and spends its steps on the mouth
        self.out = nn.Conv2d(w, 6, 1)
        with torch.no_grad():
            self.out.bias[3:] = torch.tensor([0.0, 2.0, 0.0])

    def forward(self, masked: torch.Tensor, reference: torch.Tensor,
                audio_embedding: torch.Tensor) -> torch.Tensor:
        """(N,3,S,S) masked face, (N,3,S,S) reference, (N,E) audio embedding -> (N,3,S,S)."""
        s1, s2, s3, s4 = self.src_enc(masked)
        _, r2, r3, r4 = self.ref_enc(reference)
        for block in self.intra:
            s4 = block(s4, r4)
        a = self.audio_proj(audio_embedding)
        img = self.image_proj(torch.cat([s4, r4], 1).mean(dim=(2, 3)))
        p = torch.cat([img, a], dim=1)
        warped = []
        for i, (feat, warp) in enumerate(zip((r4, r3, r2), self.warps)):
            m = getattr(self, f"mask{i}")
            warped.append(m * warp(feat, p) + (1.0 - m) * feat)
        w4, w3, w2 = warped
        a_map = a[:, :, None, None].expand(-1, -1, *s4.shape[-2:])
        h = self.bottleneck(torch.cat([s4, w4, a_map], 1))
        h = self.up3(h, torch.cat([s3, w3], 1))
        h = self.up2(h, torch.cat([s2, w2], 1))
        h = self.out(self.up1(h, s1))
        logits = h[:, 3:]
        if self.cfg.ref_out_of_mouth:
            # no copying of the reference's mouth: inside the mouth region the output is new
            # colour (the masked input is empty there)
            logits = logits - torch.cat([torch.zeros_like(self.mouth_full),
                                         30.0 * self.mouth_full,
                                         torch.zeros_like(self.mouth_full)], 1)
        mix = torch.softmax(logits, dim=1)
        return mix[:, :1] * masked + mix[:, 1:2] * reference + mix[:, 2:] * torch.sigmoid(h[:, :3])


def mask_lower_half(faces: torch.Tensor) -> torch.Tensor:
    """Zero the lower half of (N, 3, S, S) faces: the generator must fill in the mouth."""
    out = faces.clone()
    out[..., faces.shape[-2] // 2:, :] = 0.0
    return out
