"""The TopCap authors' feature tables (v1 and v2 formats) as a dataset, and the paper's claims
checked on them with bench verify. The tables are generated here; no authors' file is used."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from bench.cli import main
from bench.datasets.consonants.feature_table import (
    FeatureTableError,
    load_feature_table,
    read_feature_table,
)

REPO = Path(__file__).resolve().parents[1]


def _features(n: int, seed: int = 0, overlap: float = 0.0):
    """(birth, lifetime, authors' label) rows: voiced (1) have long lifetimes, voiceless (2)
    short ones, as in the released tables; ``overlap`` mixes the two classes' lifetimes."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        voiced = i % 3 != 0  # about two thirds voiced, like the v1 table (658 of 980)
        life = rng.normal(0.30 if voiced else 0.05, 0.03 + overlap)
        rows.append((rng.uniform(0.01, 0.2), abs(life), 1 if voiced else 2,
                     int(rng.integers(40, 400))))
    return rows


def write_v1(path: Path, rows) -> Path:
    path.write_text("birthtime,lifetime,ticket\n"
                    + "".join(f"{b!r},{life!r},{lab}\n" for b, life, lab, _ in rows))
    return path


def write_v2(path: Path, rows) -> Path:
    path.write_text("".join(f"{b!r},{life!r},{lab},{n}\n" for b, life, lab, n in rows))
    return path


@pytest.mark.parametrize("fmt", ["v1", "v2"])
def test_both_released_formats_are_detected_and_read(tmp_path, fmt):
    rows = _features(50)
    path = (write_v1 if fmt == "v1" else write_v2)(tmp_path / "t.csv", rows)
    got_fmt, got = read_feature_table(path)
    assert got_fmt == fmt and len(got) == 50
    assert [r.label for r in got] == [1 if lab == 1 else 0 for _, _, lab, _ in rows]
    assert np.allclose(got[3].feature, rows[3][:2])
    assert got[0].line == (2 if fmt == "v1" else 1)
    assert (got[0].n_points == rows[0][3]) if fmt == "v2" else got[0].n_points is None


def test_bad_rows_are_reported_with_line_numbers(tmp_path):
    path = write_v1(tmp_path / "bad.csv", _features(30))
    lines = path.read_text().splitlines()
    lines[4] = "0.1,0.2,3"  # line 5: unknown label
    lines[6] = "0.1,abc,1"  # line 7: not a number
    lines[8] = "0.1,0.2"  # line 9: a field missing
    lines[10] = "0.1,-0.2,2"  # line 11: negative lifetime
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FeatureTableError) as err:
        read_feature_table(path)
    msg = str(err.value)
    assert str(path) in msg and "4 bad row(s)" in msg
    assert "line 5: label '3' is not 1 (voiced) or 2 (voiceless)" in msg
    assert "line 7: lifetime 'abc'" in msg and "line 9: 2 fields, expected 3" in msg
    assert "line 11: lifetime -0.2 is negative" in msg


def test_an_unknown_layout_is_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("birth,death\n0.1,0.2\n")
    with pytest.raises(FeatureTableError, match="unknown feature-table format"):
        read_feature_table(path)
    with pytest.raises(FeatureTableError, match="needs the table's path"):
        load_feature_table(None)


def test_paper_protocol_stratified_70_30(tmp_path):
    ds = load_feature_table(write_v2(tmp_path / "t.csv", _features(200)))
    train, hold = ds.split("paper-train"), ds.split("paper-holdout")
    assert len(hold.ids) == 60 and len(train.ids) == 140
    assert not set(train.ids) & set(hold.ids)
    assert ds.train_split_for("paper-holdout") == "paper-train"
    rate = [np.mean([ds.sample(i).label for i in s.ids]) for s in (train, hold)]
    assert abs(rate[0] - rate[1]) < 0.02  # stratified
    folds = list(ds.protocol.folds())
    assert len(folds) == 5 and all(set(v) <= set(ds.protocol.train) for _, v in folds)


def _verify(claims: Path, table: Path, runs: Path):
    return CliRunner().invoke(main, ["verify", str(claims), "--runs-dir", str(runs),
                                     "--dataset-option", f"topcap-features.path={table}"])


def test_verify_checks_claims_on_a_released_format_table(tmp_path):
    """A separable table: the SVM on the hold-out must be perfect, so a claim of 1.0 with no
    tolerance holds; a claim of 0.9 does not (labels or splits wired wrongly would fail)."""
    table = write_v1(tmp_path / "v1.csv", _features(200))
    claims = tmp_path / "c.toml"
    claims.write_text("""
[[claim]]
task = "consonant-voicing"
dataset = "topcap-features"
split = "paper-holdout"
method = "topcap-svm-v1"
metric = "accuracy"
value = 1.0
tolerance = 0.0
[[claim]]
task = "consonant-voicing"
dataset = "topcap-features"
split = "paper-holdout"
method = "topcap-svm-v1"
metric = "roc-auc"
value = 0.9
tolerance = 0.05
""")
    res = _verify(claims, table, tmp_path / "runs")
    assert "[holds] topcap-svm-v1 topcap-features/paper-holdout accuracy" in res.output, res.output
    assert "on 60 of 60 scored" in res.output
    assert "[does not hold] topcap-svm-v1 topcap-features/paper-holdout roc-auc" in res.output
    assert res.exit_code == 1


def test_the_shipped_topcap_v1_claims_run_on_a_table(tmp_path):
    """claims/topcap-v1.toml as shipped: both claims are judged on a v1-format table."""
    table = write_v1(tmp_path / "v1.csv", _features(200, overlap=0.05))
    res = _verify(REPO / "claims" / "topcap-v1.toml", table, tmp_path / "runs")
    assert res.exit_code in (0, 1), res.output
    lines = [line for line in res.output.splitlines() if "] topcap-svm-v1" in line]
    assert len(lines) == 2 and all("of 60 scored" in line for line in lines)
    assert "claimed 0.9592" in lines[0] and "claimed 0.982" in lines[1]
