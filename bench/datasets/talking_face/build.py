"""Build the talking-face manifest from the speech corpus: ``python -m bench.datasets.talking_face.build``.

Identities are assigned to splits (identity-disjoint); every clip pairs an identity with an
utterance from the same corpus split (speaker-disjoint, as the corpus splits are). Each clip is
rendered once to record the sha256 of its frames.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from bench.samples import SPEECH_SAMPLE_RATE, VIDEO_FPS, frames_for_audio

from .cache import array_sha256
from .embedded import DEFAULT_MANIFEST, NAME
from .render import Identity, make_identity, motion_params, render_clip

VERSION = "1"
IDENTITY_SPLITS = {"train": 20, "val": 4, "test": 8}
TARGET_CLIPS: dict[str, int | None] = {"train": 400, "val": 48, "test": 36}


def stable_seed(text: str) -> int:
    """A 31-bit seed derived from a string (stable across runs and platforms)."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) & 0x7FFFFFFF


def pair_clips(utts: Sequence[Any], identities: Sequence[str], target: int | None,
               rng: np.random.Generator) -> list[tuple[Any, str]]:
    """(utterance, identity) pairs for one split, about ``target`` of them.

    A small corpus split is stretched by rendering each utterance with several identities
    (``ceil(target / len(utts))``, at most one per identity); rounds go over all utterances
    before any gets another face, so a cut at ``target`` stays balanced. ``None``: one each.
    """
    order = [utts[i] for i in rng.permutation(len(utts))]
    k = 1 if target is None else min(len(identities), max(1, -(-target // max(1, len(order)))))
    pairs = [(u, identities[(j * k + r) % len(identities)])
             for r in range(k) for j, u in enumerate(order)]
    return pairs if target is None else pairs[:target]


def crossdub_pairs(clips: Sequence[str], speaker_of: dict[str, str], utt_of: dict[str, str],
                   seed: int) -> list[dict[str, str]]:
    """Pair each test clip's video with the audio of another clip by a different speaker."""
    rng = np.random.default_rng(seed)
    pool = [clips[i] for i in rng.permutation(len(clips))]
    used: dict[str, int] = defaultdict(int)
    pairs = []
    for v in clips:
        cands = [a for a in pool if speaker_of[a] != speaker_of[v]]
        if not cands:
            raise ValueError(f"clip {v!r}: no test clip of another speaker to dub with")
        a = min(cands, key=lambda c: used[c])  # spread audio use evenly, seeded tie order
        used[a] += 1
        pairs.append({"id": f"xdub_{v}_{utt_of[a]}", "video": v, "audio": a})
    return pairs


def build_manifest(corpus: Any, seed: int = 0, identity_splits: dict[str, int] = IDENTITY_SPLITS,
                   target_clips: dict[str, int | None] = TARGET_CLIPS, progress: bool = False) -> dict:
    """The manifest dict for ``corpus`` (renders every clip once to hash its frames)."""
    identities: dict[str, dict] = {}
    id_split: dict[str, list[str]] = {}
    k = 0
    for split, n in identity_splits.items():
        id_split[split] = []
        for _ in range(n):
            iid = f"face{k:02d}"
            identities[iid] = make_identity(iid, stable_seed(f"identity:{iid}:{seed}")).to_dict()
            id_split[split].append(iid)
            k += 1

    clips: dict[str, dict] = {}
    splits: dict[str, Any] = {}
    started = time.time()
    for split in identity_splits:
        rng = np.random.default_rng(stable_seed(f"split:{split}:{seed}"))
        utts = [corpus.utterance(u) for u in corpus.split_ids(split)]
        chosen = pair_clips(utts, id_split[split], target_clips.get(split), rng)
        ids = []
        for utt, iid in chosen:
            cid = f"{iid}_{utt.id}"
            n_frames = frames_for_audio(len(corpus.audio(utt.id)), SPEECH_SAMPLE_RATE, VIDEO_FPS)
            clip_seed = stable_seed(f"clip:{cid}:{seed}")
            params = motion_params(clip_seed, n_frames)
            ident = Identity.from_dict(identities[iid])
            frames, boxes = render_clip(ident, utt.phones, n_frames, params)
            clips[cid] = {"utterance": utt.id, "identity": iid, "speaker": utt.speaker,
                          "split": split, "seed": clip_seed, "n_frames": n_frames,
                          "motion": params, "frames_sha256": array_sha256(frames),
                          "boxes_sha256": array_sha256(boxes)}
            ids.append(cid)
            if progress:
                print(f"{split} {len(ids)}/{len(chosen)} {cid} {time.time() - started:.0f}s", flush=True)
        splits[split] = sorted(ids)
    test = splits["test"]
    splits["test-crossdub"] = crossdub_pairs(
        test, {c: clips[c]["speaker"] for c in test}, {c: clips[c]["utterance"] for c in test},
        stable_seed(f"crossdub:{seed}"))
    return {
        "name": NAME, "version": VERSION, "fps": VIDEO_FPS, "sample_rate": SPEECH_SAMPLE_RATE,
        "frame_size": [128, 128], "seed": seed,
        "speech_corpus": {"name": getattr(corpus, "name", ""), "version": getattr(corpus, "version", "")},
        "identity_splits": id_split, "identities": identities, "clips": clips, "splits": splits,
    }


def write_manifest(manifest: dict, path: Path = DEFAULT_MANIFEST) -> Path:
    """Write the manifest as stable, diff-friendly JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: rebuild the manifest from the embedded speech corpus."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=DEFAULT_MANIFEST)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    from bench.datasets.speech import load_corpus

    manifest = build_manifest(load_corpus(), seed=args.seed, progress=True)
    print(write_manifest(manifest, args.out))


if __name__ == "__main__":
    main()
