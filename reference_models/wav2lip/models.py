"""Wav2Lip networks: the generator, the expert lip-sync discriminator and the visual-quality critic.

Layer layout and module names follow the published Wav2Lip (``models/wav2lip.py``,
``models/syncnet.py``, ``models/conv.py``) so that its checkpoints load strictly at ``width=1``.
``width`` multiplies every hidden channel count, giving small models that train on a CPU.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def scaled(channels: int, width: float) -> int:
    """Hidden channel count ``channels`` under width multiplier ``width`` (at least 1)."""
    return max(1, round(channels * width))


class Conv2d(nn.Module):
    """Conv + BatchNorm + ReLU, optionally with an identity shortcut before the ReLU."""

    def __init__(self, cin: int, cout: int, kernel_size, stride=1, padding=0, residual: bool = False):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.Conv2d(cin, cout, kernel_size, stride, padding), nn.BatchNorm2d(cout)
        )
        self.act = nn.ReLU()
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_block(x)
        if self.residual:
            out = out + x
        return self.act(out)


class NoNormConv2d(nn.Module):
    """Conv + LeakyReLU(0.01) without normalisation (the quality discriminator's block)."""

    def __init__(self, cin: int, cout: int, kernel_size, stride=1, padding=0):
        super().__init__()
        self.conv_block = nn.Sequential(nn.Conv2d(cin, cout, kernel_size, stride, padding))
        self.act = nn.LeakyReLU(0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv_block(x))


class Conv2dTranspose(nn.Module):
    """Transposed conv + BatchNorm + ReLU (decoder upsampling)."""

    def __init__(self, cin: int, cout: int, kernel_size, stride=1, padding=0, output_padding=0):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ConvTranspose2d(cin, cout, kernel_size, stride, padding, output_padding),
            nn.BatchNorm2d(cout),
        )
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv_block(x))


def _res(c: int, n: int) -> list[nn.Module]:
    return [Conv2d(c, c, 3, 1, 1, residual=True) for _ in range(n)]


def audio_encoder(width: float, res_at_256: int) -> nn.Sequential:
    """Mel window (B, 1, 80, 16) -> (B, 512w, 1, 1); the generator has one fewer block at 256."""
    c = [scaled(n, width) for n in (32, 64, 128, 256, 512)]
    return nn.Sequential(
        Conv2d(1, c[0], 3, 1, 1), *_res(c[0], 2),
        Conv2d(c[0], c[1], 3, (3, 1), 1), *_res(c[1], 2),
        Conv2d(c[1], c[2], 3, 3, 1), *_res(c[2], 2),
        Conv2d(c[2], c[3], 3, (3, 2), 1), *_res(c[3], res_at_256),
        Conv2d(c[3], c[4], 3, 1, 0),
        Conv2d(c[4], c[4], 1, 1, 0),
    )  # fmt: skip


def copy_audio_encoder(expert: "SyncNetColor", gen: "Wav2Lip") -> None:
    """Start ``gen``'s audio encoder from ``expert``'s (same width): layer by layer, skipping the
    expert's second residual block at 256 channels, which the generator does not have."""
    src, dst = list(expert.audio_encoder), list(gen.audio_encoder)
    if expert.width != gen.width:
        raise ValueError(f"expert width {expert.width} != generator width {gen.width}")
    i = 0
    for layer in dst:
        while src[i].residual and not layer.residual:
            i += 1
        layer.load_state_dict(src[i].state_dict())
        i += 1


def _fold_time(x: torch.Tensor, time_dim: int) -> torch.Tensor:
    # (B, ..., T, ...) -> (T*B, ...), time-major like the reference so outputs unfold the same way.
    return torch.cat([x.select(time_dim, i) for i in range(x.size(time_dim))], dim=0)


class SyncNetColor(nn.Module):
    """Expert lip-sync discriminator: 5 lower-half RGB frames and a 16-step mel window -> embeddings.

    Input faces (B, 15, 48, 96) in [0, 1], mels (B, 1, 80, 16); returns L2-normalised
    (audio, face) embeddings of size 512·width.
    """

    def __init__(self, width: float = 1.0):
        super().__init__()
        self.width = width
        c = [scaled(n, width) for n in (32, 64, 128, 256, 512)]
        self.face_encoder = nn.Sequential(
            Conv2d(15, c[0], 7, 1, 3),
            Conv2d(c[0], c[1], 5, (1, 2), 1), *_res(c[1], 2),
            Conv2d(c[1], c[2], 3, 2, 1), *_res(c[2], 3),
            Conv2d(c[2], c[3], 3, 2, 1), *_res(c[3], 2),
            Conv2d(c[3], c[4], 3, 2, 1), *_res(c[4], 2),
            Conv2d(c[4], c[4], 3, 2, 1),
            Conv2d(c[4], c[4], 3, 1, 0),
            Conv2d(c[4], c[4], 1, 1, 0),
        )  # fmt: skip
        self.audio_encoder = audio_encoder(width, res_at_256=2)

    def forward(self, mel: torch.Tensor, faces: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (audio_embedding, face_embedding), each (B, 512·width), unit length."""
        return self.embed_audio(mel), self.embed_faces(faces)

    def embed_audio(self, mel: torch.Tensor) -> torch.Tensor:
        """(N, 1, 80, 16) mel windows -> (N, 512·width) unit-length embeddings."""
        return F.normalize(self.audio_encoder(mel).flatten(1), p=2, dim=1)

    def embed_faces(self, faces: torch.Tensor) -> torch.Tensor:
        """(N, 15, 48, 96) lower-half windows -> (N, 512·width) unit-length embeddings."""
        return F.normalize(self.face_encoder(faces).flatten(1), p=2, dim=1)


class Wav2Lip(nn.Module):
    """Generator: U-Net whose bottleneck is the audio embedding, skips from the face encoder.

    Faces (B, 6, 96, 96) or (B, 6, T, 96, 96): channels 0-2 the target frame with its lower
    half zeroed, 3-5 a reference frame; mels (B, 1, 80, 16) or (B, T, 1, 80, 16). Output RGB in
    [0, 1] with the same layout as the faces.
    """

    def __init__(self, width: float = 1.0):
        super().__init__()
        self.width = width
        e = [scaled(n, width) for n in (16, 32, 64, 128, 256, 512)]
        self.face_encoder_blocks = nn.ModuleList([
            nn.Sequential(Conv2d(6, e[0], 7, 1, 3)),  # 96
            nn.Sequential(Conv2d(e[0], e[1], 3, 2, 1), *_res(e[1], 2)),  # 48
            nn.Sequential(Conv2d(e[1], e[2], 3, 2, 1), *_res(e[2], 3)),  # 24
            nn.Sequential(Conv2d(e[2], e[3], 3, 2, 1), *_res(e[3], 2)),  # 12
            nn.Sequential(Conv2d(e[3], e[4], 3, 2, 1), *_res(e[4], 2)),  # 6
            nn.Sequential(Conv2d(e[4], e[5], 3, 2, 1), *_res(e[5], 1)),  # 3
            nn.Sequential(Conv2d(e[5], e[5], 3, 1, 0), Conv2d(e[5], e[5], 1, 1, 0)),  # 1
        ])  # fmt: skip
        self.audio_encoder = audio_encoder(width, res_at_256=1)
        # Decoder outputs; each is concatenated with the encoder feature of the same size.
        d = [scaled(n, width) for n in (512, 512, 512, 384, 256, 128, 64)]
        skips = [e[5], e[5], e[4], e[3], e[2], e[1], e[0]]  # deepest first
        blocks: list[nn.Module] = [nn.Sequential(Conv2d(e[5], d[0], 1, 1, 0))]
        n_res = [1, 2, 2, 2, 2, 2]
        for i in range(1, 7):
            cin = d[i - 1] + skips[i - 1]
            up = (
                Conv2dTranspose(cin, d[i], 3, 1, 0)
                if i == 1
                else Conv2dTranspose(cin, d[i], 3, 2, 1, output_padding=1)
            )
            blocks.append(nn.Sequential(up, *_res(d[i], n_res[i - 1])))
        self.face_decoder_blocks = nn.ModuleList(blocks)
        self.output_block = nn.Sequential(
            Conv2d(d[6] + skips[6], scaled(32, width), 3, 1, 1),
            nn.Conv2d(scaled(32, width), 3, 1, 1, 0),
            nn.Sigmoid(),
        )

    def forward(self, mel: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
        """Generate faces from mel windows and masked+reference faces (see class docstring)."""
        batch = mel.size(0)
        sequence = faces.dim() > 4
        if sequence:
            mel = _fold_time(mel, 1)
            faces = _fold_time(faces, 2)
        feats = []
        x = faces
        for block in self.face_encoder_blocks:
            x = block(x)
            feats.append(x)
        x = self.audio_encoder(mel)
        for block in self.face_decoder_blocks:
            x = torch.cat((block(x), feats.pop()), dim=1)
        x = self.output_block(x)
        if sequence:
            x = torch.stack(torch.split(x, batch, dim=0), dim=2)
        return x


class Wav2LipDiscQual(nn.Module):
    """Visual-quality discriminator on lower halves: P(real) per frame, shape (B·T, 1)."""

    def __init__(self, width: float = 1.0):
        super().__init__()
        self.width = width
        c = [scaled(n, width) for n in (32, 64, 128, 256, 512)]
        self.face_encoder_blocks = nn.ModuleList([
            nn.Sequential(NoNormConv2d(3, c[0], 7, 1, 3)),  # 48x96
            nn.Sequential(NoNormConv2d(c[0], c[1], 5, (1, 2), 2), NoNormConv2d(c[1], c[1], 5, 1, 2)),
            nn.Sequential(NoNormConv2d(c[1], c[2], 5, 2, 2), NoNormConv2d(c[2], c[2], 5, 1, 2)),
            nn.Sequential(NoNormConv2d(c[2], c[3], 5, 2, 2), NoNormConv2d(c[3], c[3], 5, 1, 2)),
            nn.Sequential(NoNormConv2d(c[3], c[4], 3, 2, 1), NoNormConv2d(c[4], c[4], 3, 1, 1)),
            nn.Sequential(NoNormConv2d(c[4], c[4], 3, 2, 1), NoNormConv2d(c[4], c[4], 3, 1, 1)),
            nn.Sequential(NoNormConv2d(c[4], c[4], 3, 1, 0), NoNormConv2d(c[4], c[4], 1, 1, 0)),
        ])  # fmt: skip
        self.binary_pred = nn.Sequential(nn.Conv2d(c[4], 1, 1, 1, 0), nn.Sigmoid())

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        """Faces (B, 3, T, H, W) or (B, 3, H, W) in [0, 1] -> P(real) of each frame's lower half."""
        if faces.dim() > 4:
            faces = _fold_time(faces, 2)
        x = faces[:, :, faces.size(2) // 2 :]
        for block in self.face_encoder_blocks:
            x = block(x)
        return self.binary_pred(x).view(len(x), -1)


def lower_half_window(faces: torch.Tensor) -> torch.Tensor:
    """(B, 3, T, H, W) frames -> (B, 3T, H/2, W) lower halves stacked on channels (expert input)."""
    lower = faces[:, :, :, faces.size(3) // 2 :]
    return torch.cat([lower[:, :, i] for i in range(lower.size(2))], dim=1)
