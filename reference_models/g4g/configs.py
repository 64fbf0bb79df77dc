"""Named configurations: ``embedded`` (CPU-trainable, 96-px faces) and ``paper`` (GPU scale)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

ALIGN_LOSSES = ("infonce", "dense_bce")
PERCEPTUAL_KINDS = ("random", "vgg19")
FUSION_KINDS = ("unet", "paste")
TRAIN_REFERENCES = ("random", "aligner", "aligner-mixed")


@dataclass(frozen=True)
class G4GConfig:
    """Every size, loss weight and schedule knob of the model and its training."""

    name: str = "embedded"
    # timing (Wav2Lip's): 25 fps video, 16 kHz audio, 80 mel frames/s, 16 mel steps per 5 frames
    fps: float = 25.0
    sample_rate: int = 16000
    n_mels: int = 80
    mel_steps: int = 16
    sync_frames: int = 5
    # peak-normalise the waveform so loudness does not change the mel input (the abstract's
    # robustness to "tones or volumes")
    audio_peak_norm: bool = True
    # image sizes
    face_size: int = 96
    frame_size: int = 128
    # widths
    width: int = 8
    align_width: int = 16
    embed_dim: int = 128
    n_adain_blocks: int = 2
    fusion_width: int = 8
    # inter-modal alignment ("diagonal matrix")
    align_loss: str = "infonce"
    tau: float = 0.07
    learnable_tau: bool = False
    # multi-scale masks: which region gates the AdaAT warp at each feature scale (coarse -> fine)
    mask_scales: tuple[str, ...] = ("face", "lower", "mouth")
    fusion: str = "unet"
    # multi-scale supervision
    loss_scales: tuple[float, ...] = (1.0, 0.5, 0.25)
    w_l1: float = 1.0
    w_perceptual: float = 1.0
    w_mouth: float = 2.0
    w_sync: float = 0.03
    w_fusion: float = 1.0
    # adversarial term on the lower face (0: off), from generator step gan_start; the
    # discriminator is a training-only network (not in the inference weights)
    w_gan: float = 0.0
    gan_start: int = 0
    disc_width: int = 16
    disc_lr: float = 2e-4
    # exponential moving average of the generator and fusion weights (0: off); when on, the
    # average is what is validated, snapshotted and exported (the adversarial term makes the
    # raw weights jump from one validation to the next)
    ema_decay: float = 0.0
    perceptual: str = "random"
    vgg19_weights: str = ""
    # schedule
    align_steps: int = 300
    align_batch_clips: int = 8
    align_windows_per_clip: int = 2
    align_lr: float = 5e-4
    # the aligner reads its lower halves at this scale (0.5: 24x48 at 96 px; cheaper, and
    # enough for mouth shapes); weight decay, colour jitter and a cosine learning rate fight the
    # overfitting seen with 240 clips; selection "loss" (val loss) or "sync" (val top-1 and
    # per-window offset recovery averaged)
    align_input_scale: float = 1.0
    align_weight_decay: float = 0.0
    align_augment: bool = False
    align_cosine: bool = False
    align_select: str = "loss"
    align_offsets: int = 6
    gen_steps: int = 700
    gen_batch: int = 3
    gen_lr: float = 5e-4
    # cosine decay of the generator's learning rate to 0 over gen_steps (sharper late steps)
    gen_cosine: bool = False
    # steps of generator training before the sync loss is switched on (reconstruction first)
    sync_start: int = 0
    # drop the reference face from the output mix inside the mouth region, so the mouth must be
    # generated (copying the reference's mouth was a strong shortcut)
    ref_out_of_mouth: bool = False
    # inference: which identity frame is each output frame's reference. "half-video": the
    # frame half the video away; "aligner": the frame whose lip window the (training) aligner
    # finds best synced with the output frame's audio window, at least reference_exclude frames
    # away from the frame being replaced (so it never copies the target or its neighbours)
    reference_select: str = "half-video"
    # training references: "random" (another window of the same video) or "aligner" (the frame
    # the frozen aligner would pick at inference, so the generator learns to reshape a chosen
    # mouth towards the audio rather than to copy a random one); "aligner-mixed": for half the
    # windows the aligner picks from another clip of the same identity instead, as under
    # cross-dub, where the references hold another sentence's mouths
    train_reference: str = "random"
    reference_exclude: int = 12
    # "aligner": bonus for continuing with the next identity frame (j_i = j_{i-1} + 1), so the
    # chosen references form runs of real mouth motion rather than single jumping frames
    reference_continuity: float = 0.0
    # "aligner": score frame pairs (i, j) by the mean cosine of the pairs (i+d, j+d), |d| <= this
    # many frames, so a reference is chosen for how well its neighbourhood matches, not one window
    reference_context: int = 0
    # crop (and paste) every frame with a box of one aspect ratio per clip
    # (wav2lip.faces.steady_boxes), so the jaw is drawn from the audio and not from the box's height
    steady_boxes: bool = False
    val_every: int = 100
    val_batches: int = 4
    ckpt_every: int = 100
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        if self.align_loss not in ALIGN_LOSSES:
            raise ValueError(f"align_loss must be one of {ALIGN_LOSSES}, got {self.align_loss!r}")
        if self.perceptual not in PERCEPTUAL_KINDS:
            raise ValueError(f"perceptual must be one of {PERCEPTUAL_KINDS}, got {self.perceptual!r}")
        if self.fusion not in FUSION_KINDS:
            raise ValueError(f"fusion must be one of {FUSION_KINDS}, got {self.fusion!r}")
        if len(self.mask_scales) != 3 or not set(self.mask_scales) <= {"face", "lower", "mouth"}:
            raise ValueError(f"mask_scales must name 3 of face/lower/mouth, got {self.mask_scales!r}")
        if self.face_size % 8 or self.frame_size % 8:
            raise ValueError("face_size and frame_size must be multiples of 8")
        if not 0 < self.align_input_scale <= 1:
            raise ValueError(f"align_input_scale must be in (0, 1], got {self.align_input_scale}")
        if self.align_select not in ("loss", "sync"):
            raise ValueError(f"align_select must be 'loss' or 'sync', got {self.align_select!r}")
        if self.reference_select not in ("half-video", "aligner"):
            raise ValueError("reference_select must be 'half-video' or 'aligner', got "
                             f"{self.reference_select!r}")
        if self.train_reference not in TRAIN_REFERENCES:
            raise ValueError(f"train_reference must be one of {TRAIN_REFERENCES}, got "
                             f"{self.train_reference!r}")
        if self.tau <= 0:
            raise ValueError(f"tau must be positive, got {self.tau}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1) (0: off), got {self.ema_decay}")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-able) for checkpoints and run records."""
        d = asdict(self)
        d["mask_scales"] = list(self.mask_scales)
        d["loss_scales"] = list(self.loss_scales)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> G4GConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error so typos do not pass silently."""
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown G4G config keys: {sorted(unknown)}")
        d = dict(d)
        for key in ("mask_scales", "loss_scales"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)


# The recipe of the shipped checkpoint (96-px faces, one CPU thread; see the model card for the
# val measurements behind each choice). The class defaults above are the earlier recipe, which
# weights files written before these keys existed were trained with.
EMBEDDED = G4GConfig(
    align_input_scale=0.5,
    align_windows_per_clip=4,
    align_lr=1e-3,
    align_cosine=True,
    align_weight_decay=1e-4,
    align_augment=True,
    align_select="sync",
    align_steps=3000,
    # the shipped generator: the reference fills the mouth, chosen by the aligner at inference;
    # the last phase trains with aligner-chosen references and a sync loss, so the generator
    # reshapes the chosen mouth towards the audio. It is the last of the generator phases in
    # the model card: from the end of a 2000-step phase at sync weight 0.01 and Adam 2e-4,
    # 600 steps at 0.06 and 1e-4; the shipped weights are its step-100 snapshot, chosen on val
    ref_out_of_mouth=False,
    w_mouth=8.0,
    gen_batch=4,
    gen_steps=600,
    gen_lr=1e-4,
    gen_cosine=True,
    train_reference="aligner",
    sync_start=0,
    w_sync=0.06,
    # an adversarial term on the lower face: trained on steady crops, the L1 generator blurred
    # the jaw it draws; val LSE-C rose with this weight from 0.05 to 64, best at an early
    # snapshot (step 100 at 64, written with val_every 50; model card)
    w_gan=64.0,
    reference_select="aligner",
    # 6 frames (0.24 s) since steady boxes; 12 before (model card, steady boxes)
    reference_exclude=6,
    reference_continuity=0.15,
    reference_context=2,
    # crop and paste with steady boxes, in training and at inference: with the dataset's box
    # the box's height carries the identity video's jaw (model card)
    steady_boxes=True,
    val_batches=12,
    val_every=150,
    ckpt_every=150,
)

# Paper-scale sizes for GPU users with real data (LRS2/HDTF). G4G's own sizes are unknown; these
# follow DINet/Wav2Lip practice: 256-px faces, full widths, VGG19 perceptual loss.
PAPER = G4GConfig(
    name="paper",
    face_size=256,
    frame_size=512,
    width=64,
    align_width=64,
    embed_dim=512,
    n_adain_blocks=4,
    fusion_width=32,
    perceptual="vgg19",
    w_perceptual=10.0,
    align_steps=100_000,
    align_batch_clips=32,
    align_windows_per_clip=2,
    align_lr=1e-4,
    gen_steps=200_000,
    gen_batch=8,
    gen_lr=1e-4,
    val_every=3000,
    ckpt_every=3000,
)

CONFIGS = {"embedded": EMBEDDED, "paper": PAPER}


def get_config(name: str, **overrides: Any) -> G4GConfig:
    """Return the named config with ``overrides`` applied."""
    if name not in CONFIGS:
        raise ValueError(f"unknown G4G config {name!r}; choose from {sorted(CONFIGS)}")
    return replace(CONFIGS[name], **overrides) if overrides else CONFIGS[name]
