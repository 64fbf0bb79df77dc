"""Simulated-signal study: how frequency, amplitude and average-line variation move the H1 diagram.

Signals follow the authors' notebook: t = arange(0, 7*pi, 0.01), F_c = linspace(c/4, 1, len(t))
for c = 1..4 (c = 4 is a pure cosine), families cos(F_c t), F_c cos(t) and F_c + cos(t); delay
embedding of dimension 3, delay 100, skip 10; Vietoris-Rips H1 shown as (birth, lifetime).

Run: ``python -m reference_models.topcap.simulate --out DIR``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from reference_models.topcap.features import embedding, persistence

DIM, DELAY, SKIP = 3, 100, 10
ZOOM_LIFETIME = 0.1
CS = (1, 2, 3, 4)
FAMILIES = {
    "frequency": ("cos(F_c t)", lambda f, t: np.cos(f * t)),
    "amplitude": ("F_c cos(t)", lambda f, t: f * np.cos(t)),
    "average_line": ("F_c + cos(t)", lambda f, t: f + np.cos(t)),
}
COLOURS = {1: "tab:blue", 2: "tab:orange", 3: "tab:green", 4: "black"}


def time_axis() -> np.ndarray:
    """t = arange(0, 7*pi, 0.01): 2200 samples."""
    return np.arange(0, 7 * np.pi, 0.01)


def signal(family: str, c: int) -> np.ndarray:
    """The family's signal for variation level c (c = 4: no variation)."""
    t = time_axis()
    f = np.linspace(c / 4, 1, len(t))
    return FAMILIES[family][1](f, t)


def diagram(sig: np.ndarray) -> np.ndarray:
    """H1 (birth, death) of the dimension-3, delay-100, skip-10 embedding."""
    return persistence(embedding(sig, DELAY, dim=DIM, skip=SKIP))


def _label(c: int) -> str:
    return "c = 4 (pure cosine)" if c == 4 else f"c = {c} (F from {c}/4 to 1)"


def plot_family(family: str, dgms: dict[int, np.ndarray], out: Path) -> Path:
    """Two panels: all H1 points as (birth, lifetime), and a zoom on lifetime <= 0.1."""
    formula = FAMILIES[family][0]
    fig, (full, zoom) = plt.subplots(1, 2, figsize=(12, 5))
    for c in CS:
        d = dgms[c]
        life = d[:, 1] - d[:, 0]
        kw = {
            "color": COLOURS[c],
            "label": f"{_label(c)}: {len(d)} point{'' if len(d) == 1 else 's'}",
            "alpha": 0.8,
        }
        full.scatter(d[:, 0], life, s=40 if c == 4 else 22, marker="*" if c == 4 else "o", **kw)
        small = life <= ZOOM_LIFETIME
        zoom.scatter(d[small, 0], life[small], s=22, marker="*" if c == 4 else "o", **kw)
    full.set_title(f"H1 of the delay embedding of {formula}")
    zoom.set_title(f"zoom: lifetime <= {ZOOM_LIFETIME}")
    for ax in (full, zoom):
        ax.set_xlabel("birth (Rips scale)")
        ax.set_ylabel("lifetime (death - birth)")
        ax.grid(alpha=0.3)
    zoom.set_ylim(-0.005, ZOOM_LIFETIME * 1.05)
    full.legend(fontsize=8, loc="best")
    zoom.legend(fontsize=8, loc="best")
    fig.suptitle(
        f"{family.replace('_', ' ')} variation: F_c = linspace(c/4, 1, 2200); "
        f"embedding dim {DIM}, delay {DELAY}, skip {SKIP}"
    )
    fig.tight_layout()
    path = out / f"topcap_sim_{family}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_series(out: Path) -> Path:
    """The twelve signals, one panel per family."""
    t = time_axis()
    fig, axes = plt.subplots(3, 1, figsize=(13, 9), sharex=True)
    for ax, family in zip(axes, FAMILIES):
        for c in CS:
            ax.plot(t, signal(family, c), color=COLOURS[c], lw=1.0, label=_label(c))
        ax.set_title(f"{family.replace('_', ' ')} variation: {FAMILIES[family][0]}")
        ax.set_ylabel("value")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    axes[-1].set_xlabel("t")
    fig.tight_layout()
    path = out / "topcap_sim_time_series.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run(out: Path) -> list[Path]:
    """Write the three diagram figures, the time-series figure and a CSV of diagram summaries."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [plot_series(out)]
    rows = []
    for family in FAMILIES:
        dgms = {c: diagram(signal(family, c)) for c in CS}
        paths.append(plot_family(family, dgms, out))
        for c, d in dgms.items():
            life = d[:, 1] - d[:, 0]
            best = int(np.argmax(life))
            rows.append(
                {
                    "family": family,
                    "c": c,
                    "n_points": len(d),
                    "top_birth": round(float(d[best, 0]), 4),
                    "top_lifetime": round(float(life[best]), 4),
                    "second_lifetime": round(float(np.sort(life)[-2]), 4) if len(d) > 1 else 0.0,
                }
            )
    summary = out / "topcap_sim_summary.csv"
    with summary.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return paths + [summary]


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: ``--out DIR``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNGs and CSV")
    args = parser.parse_args(argv)
    for path in run(args.out):
        print(path)


if __name__ == "__main__":
    main()
