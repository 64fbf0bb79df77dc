"""The pretrained-weights files that the image metrics (FID, LPIPS) need.

Plugins register these specs; the metrics use them as defaults. Sizes and hashes that are not
known from upstream are left as None: for torch-hub style names the sha256 prefix in the filename
is still checked (torch hub's own convention, which pytorch-fid skips with ``check_hash=False``).
"""

from __future__ import annotations

from bench.specs import WeightsSpec

FID_INCEPTION = WeightsSpec(
    name="fid-inception",
    url="https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
    "pt_inception-2015-12-05-6726825d.pth",
    sha256=None,
    size=None,
    filename="pt_inception-2015-12-05-6726825d.pth",
    license="Apache-2.0: TensorFlow Inception 2015-12-05 graph weights, ported by pytorch-fid",
    description="FID Inception v3 (pytorch-fid 0.3.0), 2048-d pool3 features; full sha256 not "
    "published upstream, the 8-hex prefix 6726825d from the filename is checked",
    loader="bench.metrics.inception:expected_keys",
)

LPIPS_ALEX_BACKBONE = WeightsSpec(
    name="lpips-alex-backbone",
    url="https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
    sha256=None,
    size=None,
    filename="alexnet-owt-7be5be79.pth",
    license="BSD-3-Clause (torchvision); trained on ImageNet, whose terms restrict use to "
    "non-commercial research",
    description="torchvision AlexNet (IMAGENET1K_V1), the LPIPS alex backbone; sha256 prefix "
    "7be5be79 checked",
    loader="bench.metrics.lpips_metric:alexnet_keys",
)

LPIPS_VGG_BACKBONE = WeightsSpec(
    name="lpips-vgg-backbone",
    url="https://download.pytorch.org/models/vgg16-397923af.pth",
    sha256=None,
    size=None,
    filename="vgg16-397923af.pth",
    license="BSD-3-Clause (torchvision); trained on ImageNet, whose terms restrict use to "
    "non-commercial research",
    description="torchvision VGG16 (IMAGENET1K_V1), the LPIPS vgg backbone; sha256 prefix checked",
    loader="bench.metrics.lpips_metric:vgg16_keys",
)

LPIPS_SQUEEZE_BACKBONE = WeightsSpec(
    name="lpips-squeeze-backbone",
    url="https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth",
    sha256=None,
    size=None,
    filename="squeezenet1_1-b8a52dc0.pth",
    license="BSD-3-Clause (torchvision); trained on ImageNet, whose terms restrict use to "
    "non-commercial research",
    description="torchvision SqueezeNet 1.1 (IMAGENET1K_V1), the LPIPS squeeze backbone; "
    "sha256 prefix checked",
    loader="bench.metrics.lpips_metric:squeezenet_keys",
)

_LIN_URL = "https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/"
_LIN_LICENSE = "BSD-2-Clause (richzhang/PerceptualSimilarity, shipped in the lpips 0.1.4 wheel)"



def _lin_heads(net: str, sha256: str, size: int) -> WeightsSpec:
    """The LPIPS v0.1 linear heads for ``net``, shipped inside the lpips wheel."""
    return WeightsSpec(
        name=f"lpips-{net}-lin",
        url=_LIN_URL + f"{net}.pth",
        sha256=sha256,
        size=size,
        filename=f"{net}.pth",
        license=_LIN_LICENSE,
        description=f"LPIPS v0.1 linear heads for {net}",
        loader=f"bench.metrics.lpips_metric:{net}_lin_keys",
        shipped_path=f"lpips:weights/v0.1/{net}.pth",
    )


LPIPS_ALEX_LIN = _lin_heads(
    "alex", "df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0", 6009)
LPIPS_VGG_LIN = _lin_heads(
    "vgg", "a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868", 7289)
LPIPS_SQUEEZE_LIN = _lin_heads(
    "squeeze", "4a5350f23600cb79923ce65bb07cbf57dca461329894153e05a1346bd531cf76", 10811)

IMAGE_METRIC_WEIGHTS: tuple[WeightsSpec, ...] = (
    FID_INCEPTION,
    LPIPS_ALEX_BACKBONE,
    LPIPS_ALEX_LIN,
    LPIPS_VGG_BACKBONE,
    LPIPS_VGG_LIN,
    LPIPS_SQUEEZE_BACKBONE,
    LPIPS_SQUEEZE_LIN,
)

# LPIPS net name -> (backbone spec, linear-head spec)
LPIPS_WEIGHTS: dict[str, tuple[WeightsSpec, WeightsSpec]] = {
    "alex": (LPIPS_ALEX_BACKBONE, LPIPS_ALEX_LIN),
    "vgg": (LPIPS_VGG_BACKBONE, LPIPS_VGG_LIN),
    "squeeze": (LPIPS_SQUEEZE_BACKBONE, LPIPS_SQUEEZE_LIN),
}
