"""S3FD face detector (the one syncnet_python's pipeline uses), loading ``sfd_face.pth``.

Module names and order follow the reference network so the official state dict loads strictly:
``vgg.{i}`` (VGG16 + dilated fc6/fc7), ``L2Norm{3,4,5}_3.weight``, ``extras.{0..3}``,
``loc.{0..5}``, ``conf.{0..5}``. Post-processing uses the reference constants: priors with
min sizes 16..512 at strides 4..128, variances (0.1, 0.2), softmax, score > 0.05, NMS 0.3 over
the top 5000, at most 750 boxes; the pipeline then keeps scores > 0.9 at scale 0.25 and applies
a final NMS at IoU 0.1.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import nms

from bench.metrics.syncnet import WeightsError, WeightsUnavailable

__all__ = ["BGR_MEAN", "S3FD", "S3FDNet", "decode", "load_s3fd", "prior_boxes"]

BGR_MEAN = np.array([104.0, 117.0, 123.0], np.float32)
MIN_SIZES = (16, 32, 64, 128, 256, 512)
STEPS = (4, 8, 16, 32, 64, 128)
VARIANCE = (0.1, 0.2)


class L2Norm(nn.Module):
    """Channel-wise L2 normalisation with a learned per-channel scale."""

    def __init__(self, channels: int, scale: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels,), float(scale)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / (x.pow(2).sum(1, keepdim=True).sqrt() + 1e-10) * self.weight[None, :, None, None]


def _vgg() -> nn.ModuleList:
    layers: list[nn.Module] = []
    cin = 3
    for block, (cout, n) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]):
        for _ in range(n):
            layers += [nn.Conv2d(cin, cout, 3, 1, padding=1), nn.ReLU(inplace=True)]
            cin = cout
        layers.append(nn.MaxPool2d(2, 2, ceil_mode=(block == 2)))
    layers += [nn.Conv2d(512, 1024, 3, 1, padding=6, dilation=6), nn.ReLU(inplace=True),
               nn.Conv2d(1024, 1024, 1, 1), nn.ReLU(inplace=True)]
    return nn.ModuleList(layers)


class S3FDNet(nn.Module):
    """S3FD backbone and heads; ``forward`` returns box offsets (N,P,4) and face scores (N,P)."""

    def __init__(self) -> None:
        super().__init__()
        self.vgg = _vgg()
        self.L2Norm3_3 = L2Norm(256, 10)
        self.L2Norm4_3 = L2Norm(512, 8)
        self.L2Norm5_3 = L2Norm(512, 5)
        self.extras = nn.ModuleList([nn.Conv2d(1024, 256, 1, 1), nn.Conv2d(256, 512, 3, 2, padding=1),
                                     nn.Conv2d(512, 128, 1, 1), nn.Conv2d(128, 256, 3, 2, padding=1)])
        src = (256, 512, 512, 1024, 512, 256)
        self.loc = nn.ModuleList([nn.Conv2d(c, 4, 3, 1, padding=1) for c in src])
        # The first head scores 3 background classes + face ("max-out" background).
        self.conf = nn.ModuleList([nn.Conv2d(c, 4 if i == 0 else 2, 3, 1, padding=1)
                                   for i, c in enumerate(src)])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[tuple[int, int]]]:
        sources = []
        for k, layer in enumerate(self.vgg):
            x = layer(x)
            if k == 15:
                sources.append(self.L2Norm3_3(x))
            elif k == 22:
                sources.append(self.L2Norm4_3(x))
            elif k == 29:
                sources.append(self.L2Norm5_3(x))
        sources.append(x)
        for k, layer in enumerate(self.extras):
            x = F.relu(layer(x), inplace=True)
            if k % 2 == 1:
                sources.append(x)
        locs, confs, shapes = [], [], []
        for i, s in enumerate(sources):
            c = self.conf[i](s)
            if i == 0:
                c = torch.cat([c[:, :3].max(1, keepdim=True)[0], c[:, 3:]], 1)
            locs.append(self.loc[i](s).permute(0, 2, 3, 1).reshape(s.shape[0], -1, 4))
            confs.append(c.permute(0, 2, 3, 1).reshape(s.shape[0], -1, 2))
            shapes.append((s.shape[2], s.shape[3]))
        return torch.cat(locs, 1), torch.cat(confs, 1).softmax(-1)[..., 1], shapes


def prior_boxes(image_hw: tuple[int, int], shapes: list[tuple[int, int]]) -> torch.Tensor:
    """Prior boxes (P,4) as centre x, centre y, width, height relative to the image."""
    h, w = image_hw
    out = []
    for (fh, fw), step, size in zip(shapes, STEPS, MIN_SIZES):
        cy, cx = torch.meshgrid((torch.arange(fh) + 0.5) * step / h, (torch.arange(fw) + 0.5) * step / w,
                                indexing="ij")
        wh = torch.tensor([size / w, size / h]).expand(fh * fw, 2)
        out.append(torch.cat([cx.reshape(-1, 1), cy.reshape(-1, 1), wh], 1))
    return torch.cat(out).float()


def decode(loc: torch.Tensor, priors: torch.Tensor) -> torch.Tensor:
    """Corner boxes (x0,y0,x1,y1, relative) from offsets and priors (SSD encoding)."""
    centre = priors[:, :2] + loc[:, :2] * VARIANCE[0] * priors[:, 2:]
    size = priors[:, 2:] * torch.exp(loc[:, 2:] * VARIANCE[1])
    return torch.cat([centre - size / 2, centre + size / 2], 1)


def _numpy_nms(boxes: np.ndarray, thresh: float) -> np.ndarray:
    keep = nms(torch.from_numpy(boxes[:, :4]).double(), torch.from_numpy(boxes[:, 4]).double(), thresh)
    return boxes[keep.numpy()]


class S3FD:
    """Detector callable ``detect(frame_bgr) -> (n,5)`` boxes in pixels with scores.

    The network runs on ``device``; decoding and suppression on CPU.
    """

    def __init__(self, net: S3FDNet, scale: float = 0.25, conf_th: float = 0.9,
                 device: str = "cpu") -> None:
        self.device = torch.device(device)
        self.net = net.eval().to(self.device)
        self.scale = scale
        self.conf_th = conf_th

    def __call__(self, frame_bgr: np.ndarray) -> np.ndarray:
        h, w = frame_bgr.shape[:2]
        img = cv2.resize(frame_bgr, (0, 0), fx=self.scale, fy=self.scale, interpolation=cv2.INTER_LINEAR)
        x = (img.astype(np.float32) - BGR_MEAN)[..., ::-1].transpose(2, 0, 1)  # mean-free RGB
        with torch.inference_mode():
            loc, score, shapes = self.net(torch.from_numpy(np.ascontiguousarray(x))[None]
                                          .to(self.device))
            loc, score = loc.cpu(), score.cpu()
            boxes = decode(loc[0], prior_boxes((img.shape[0], img.shape[1]), shapes))
            score = score[0]
            sel = score > 0.05
            boxes, score = boxes[sel], score[sel]
            top = score.argsort(descending=True)[:5000]
            boxes, score = boxes[top], score[top]
            keep = nms(boxes, score, 0.3)[:750]
        dets = torch.cat([boxes[keep] * torch.tensor([w, h, w, h]), score[keep, None]], 1).double().numpy()
        dets = dets[dets[:, 4] > self.conf_th]
        return _numpy_nms(dets, 0.1) if len(dets) else np.zeros((0, 5))


def official_keys() -> set[str]:
    """State-dict keys of ``sfd_face.pth`` (for the weights registry's key check)."""
    return set(S3FDNet().state_dict())


def load_s3fd(path: str | os.PathLike[str], scale: float = 0.25, conf_th: float = 0.9,
              device: str = "cpu") -> S3FD:
    """S3FD detector from ``sfd_face.pth`` (strict keys; weights_only load)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsUnavailable(f"S3FD weights not found at {path}; install them with "
                                 "`bench weights fetch s3fd`", install="bench weights fetch s3fd")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise WeightsError(f"{path}: cannot be read as a torch state dict ({e})") from e
    net = S3FDNet()
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise WeightsError(f"{path}: state dict does not match S3FD: {e}") from e
    return S3FD(net, scale, conf_th, device)
