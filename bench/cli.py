"""The ``bench`` command line."""

from __future__ import annotations

import json
import logging
import sys
import tomllib
from pathlib import Path
from typing import Any

import click

from bench import provenance
from bench.errors import BenchError


class BenchGroup(click.Group):
    """Reports BenchError (and other errors) as one line unless --debug is given."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            kind = "" if isinstance(exc, BenchError) else f"{type(exc).__name__}: "
            click.echo(f"error: {kind}{exc}", err=True)
            if not isinstance(exc, BenchError):
                click.echo("(run with --debug for the traceback)", err=True)
            ctx.exit(2)


@click.group(cls=BenchGroup)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
@click.pass_context
def main(ctx: click.Context, debug: bool, verbose: bool) -> None:
    """bench: evaluate talking-face and consonant-voicing methods."""
    ctx.obj = {"debug": debug}
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s: %(message)s")


def _regs():
    from bench.plugins import registries

    regs = registries()
    for p in regs.failed():
        click.echo(f"warning: plugin {p.name!r} failed to load: {p.error} (see `bench plugins`)",
                   err=True)
    return regs


KINDS = ("tasks", "datasets", "methods", "metrics", "weights", "reporters")


@main.command("list")
@click.argument("kind", type=click.Choice(KINDS), required=False)
def list_cmd(kind: str | None) -> None:
    """List what the installed plugins registered."""
    regs = _regs()
    for k in [kind] if kind else KINDS:
        registry = getattr(regs, k)
        click.echo(f"{k}:")
        for spec in registry:
            extra = getattr(spec, "task", "") or ""
            desc = (getattr(spec, "description", "") or "").split("\n")[0]
            click.echo(f"  {spec.name:28s} {extra:18s} {desc}")


@main.command()
def plugins() -> None:
    """Show every plugin: distribution, version, what it registered, and errors."""
    regs = _regs()
    for p in regs.plugins:
        dist = f"{p.origin.distribution} {p.origin.version}".strip() or "-"
        click.echo(f"{p.name} [{p.status}] {dist} ({p.origin.module})")
        for kind, names in p.registered.items():
            click.echo(f"    {kind}: {', '.join(names)}")
        if p.error:
            click.echo(f"    error: {p.error}")


def _parse_assignments(items: tuple[str, ...], option: str) -> dict[str, dict[str, Any]]:
    """NAME.KEY=VALUE items (VALUE read as TOML, else a string) to {NAME: {KEY: VALUE}}."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        name_key, sep, raw = item.partition("=")
        name, dot, key = name_key.rpartition(".")
        if not sep or not dot:
            raise BenchError(f"{option} {item!r}: expected NAME.KEY=VALUE")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        out.setdefault(name, {})[key] = value
    return out


@main.command()
@click.option("--config", "config_path", type=click.Path(), help="TOML run configuration.")
@click.option("--task", "tasks", multiple=True, help="Task(s) to run (default: all).")
@click.option("--method", "methods", multiple=True, help="Method(s) to run (default: all).")
@click.option("--dataset", default=None, help="Dataset for the selected task.")
@click.option("--split", "splits", multiple=True, help="Split(s) (default: the eval splits).")
@click.option("--metric", "metrics", multiple=True, help="Metric(s) (default: the task's).")
@click.option("--seed", type=int, default=None)
@click.option("--resume", is_flag=True, default=None, help="Continue an interrupted run.")
@click.option("--executor", type=click.Choice(["inprocess", "pool"]), default=None)
@click.option("--workers", type=int, default=None)
@click.option("--bootstrap", type=int, default=None, help="Bootstrap resamples for CIs.")
@click.option("--limit", type=int, default=None, help="Only the first N samples per split.")
@click.option("--runs-dir", default=None)
@click.option("--leaderboards-dir", default=None,
              help="Default: leaderboards/ for runs/, else RUNS_DIR/leaderboards.")
@click.option("--method-config", "method_config", multiple=True, metavar="METHOD.KEY=VALUE")
@click.option("--dataset-option", "dataset_option", multiple=True, metavar="DATASET.KEY=VALUE",
              help="An option for a dataset's loader, e.g. timit.root=/data/TIMIT.")
@click.option("--no-leaderboard", is_flag=True, help="Do not rewrite the leaderboards.")
def run(config_path, tasks, methods, dataset, splits, metrics, seed, resume, executor, workers,
        bootstrap, limit, runs_dir, leaderboards_dir, method_config, dataset_option,
        no_leaderboard) -> None:
    """Run methods on standard splits, score them, and write the leaderboards."""
    from bench.config import load_config
    from bench.executors import make_executor
    from bench.planning import plan_units
    from bench.runner import run_unit

    regs = _regs()
    cfg = load_config(config_path, {
        "tasks": tasks, "methods": methods, "splits": splits, "metrics": metrics, "seed": seed,
        "resume": resume, "executor": executor, "workers": workers, "bootstrap": bootstrap,
        "limit": limit, "runs_dir": runs_dir, "leaderboards_dir": leaderboards_dir})
    for name, table in _parse_assignments(method_config, "--method-config").items():
        cfg.method_config.setdefault(name, {}).update(table)
    for name, table in _parse_assignments(dataset_option, "--dataset-option").items():
        cfg.dataset_options.setdefault(name, {}).update(table)
    if dataset:
        task_of = regs.datasets.get(dataset).task
        cfg.datasets[task_of] = dataset
    units = plan_units(cfg, regs, command=provenance.command_line())
    click.echo(f"running {len(units)} unit(s) with the {cfg.executor} executor", err=True)
    for path in make_executor(cfg.executor, cfg.workers).map(run_unit, units):
        rec = json.loads(Path(path).read_text())
        summary = ", ".join(
            f"{m}={v['value']:.4g}" if v.get("value") is not None else f"{m}={v.get('status')}"
            for m, v in rec["metrics"].items())
        click.echo(f"{rec['method']['name']} on {rec['dataset']['name']}/"
                   f"{rec['dataset']['split']}: {summary}")
    if not no_leaderboard:
        _write_leaderboards(regs, cfg.runs_dir, cfg.leaderboards_dir)


def _write_leaderboards(regs, runs_dir: str, out_dir: str) -> None:
    from bench.leaderboard import build_tables, write_leaderboards
    from bench.significance import add_significance

    from bench.mouth_plot import write_mouth_plot
    from bench.plots import write_interval_plot
    from bench.strips import write_strip

    tables = build_tables(runs_dir)
    add_significance(tables, regs.metrics)
    for table in tables:
        for image in (write_interval_plot(table, out_dir), write_strip(table, runs_dir, out_dir),
                      write_mouth_plot(table, runs_dir, out_dir, regs)):
            if image:
                table.images.append(image)
    for path in write_leaderboards(tables, out_dir, list(regs.reporters)):
        click.echo(f"wrote {path}")
    md = [p for p in sorted(Path(out_dir).glob("*.md"))]
    for p in md:
        click.echo(p.read_text())


@main.command()
@click.option("--runs-dir", default="runs")
@click.option("--out", "out_dir", default=None,
              help="Default: leaderboards/ for runs/, else RUNS_DIR/leaderboards.")
def leaderboard(runs_dir: str, out_dir: str | None) -> None:
    """Rebuild the leaderboards from the run records."""
    from bench.config import leaderboards_dir_for

    _write_leaderboards(_regs(), runs_dir, out_dir or leaderboards_dir_for(runs_dir))


@main.command()
@click.argument("run")
@click.option("--runs-dir", default="runs")
@click.option("--json", "as_json", is_flag=True, help="Print the whole record.")
def show(run: str, runs_dir: str, as_json: bool) -> None:
    """Show a run record: a path, or TASK/DATASET/SPLIT/METHOD."""
    from bench.records import read_record

    rec = read_record(_record_path(run, runs_dir))
    if as_json:
        click.echo(json.dumps(rec, indent=2))
        return
    ds, m = rec["dataset"], rec["method"]
    click.echo(f"{m['name']} {m['version']} on {ds['name']}/{ds['split']} "
               f"({ds['n_samples']} samples, manifest {ds['manifest_hash'][:12]})")
    cov = rec.get("coverage", {})
    click.echo(f"predictions: {cov.get('n_ok')}/{cov.get('n_total')} ok, status {cov.get('status')}")
    for name, r in rec["metrics"].items():
        ci_pair = r.get("ci")
        ci = f" [{ci_pair[0]:.4g}, {ci_pair[1]:.4g}]" if ci_pair else ""
        val = f"{r['value']:.4g}" if r.get("value") is not None else "n/a"
        click.echo(f"  {name:18s} {val}{ci}  {r.get('status')} "
                   f"{r.get('n_scored')}/{r.get('n_total')} {r.get('message', '')}")
    click.echo(f"reproduce: {rec.get('reproduce')}")
    click.echo(f"timing: {rec.get('timing')}")


def _aggregates(regs, metrics) -> dict:
    from bench.errors import Unavailable
    from bench.lazy import resolve

    out = {}
    for m in metrics:
        if m not in regs.metrics:
            continue
        spec = regs.metrics.get(m)
        try:
            out[m] = resolve(spec.factory)(**dict(spec.options)).aggregate
        except Unavailable:
            pass
    return out


def _record_path(run: str, runs_dir: str) -> Path:
    path = Path(run)
    if not path.exists():
        path = Path(runs_dir) / "records" / f"{run}.json"
    if not path.exists():
        raise BenchError(f"no run record at {run} or {path}")
    return path


@main.command()
@click.argument("run_a")
@click.argument("run_b")
@click.option("--runs-dir", default="runs")
@click.option("--resamples", type=int, default=1000)
def compare(run_a: str, run_b: str, runs_dir: str, resamples: int) -> None:
    """Compare RUN_B against RUN_A with paired tests; exit 1 if B is significantly worse."""
    from bench.compare import compare_records
    from bench.records import read_record

    pa, pb = _record_path(run_a, runs_dir), _record_path(run_b, runs_dir)
    regs = _regs()
    diffs = compare_records(pa, pb, _aggregates(regs, read_record(pa)["metrics"]), resamples)
    click.echo(f"{'metric':18s} {'A':>10s} {'B':>10s} {'p':>8s}  verdict (B vs A)")
    for d in diffs:
        fa = f"{d.a:.4g}" if d.a is not None else "n/a"
        fb = f"{d.b:.4g}" if d.b is not None else "n/a"
        fp = f"{d.p_value:.3g}" if d.p_value is not None else "-"
        click.echo(f"{d.metric:18s} {fa:>10s} {fb:>10s} {fp:>8s}  {d.verdict} (n={d.n_shared})")
    if any(d.verdict == "worse" for d in diffs):
        raise SystemExit(1)


def _judge_claims(claims, runs_dir: str, limit: int) -> list:
    from bench.runner import Unit, run_unit
    from bench.verify import judge

    verdicts = []
    for c in claims:
        unit = Unit(task=c.task, method=c.method, dataset=c.dataset, split=c.split,
                    metrics=(c.metric,), runs_dir=runs_dir, limit=limit)
        rec = json.loads(Path(run_unit(unit)).read_text())
        v = judge(c, rec["metrics"][c.metric])
        verdicts.append(v)
        click.echo(f"[{v.status}] {c.method} {c.dataset}/{c.split} {c.metric}: {v.message}")
    return verdicts


@main.command()
@click.argument("claims_file", type=click.Path())
@click.option("--runs-dir", default="runs")
def verify(claims_file: str, runs_dir: str) -> None:
    """Re-run a paper's claimed numbers ([[claim]] tables) and say which hold."""
    from bench.verify import exit_code, load_claims

    _regs()
    verdicts = _judge_claims(load_claims(claims_file), runs_dir, 0)
    raise SystemExit(exit_code(verdicts))


@main.command()
@click.option("--leaderboards-dir", default="leaderboards")
@click.option("--runs-dir", default="runs")
@click.option("--task", "tasks", multiple=True, help="Only these tasks (the fast subset).")
@click.option("--method", "methods", multiple=True, help="Only these reference methods.")
def check(leaderboards_dir: str, runs_dir: str, tasks, methods) -> None:
    """Re-evaluate reference models; fail when a number leaves its committed interval."""
    from bench.verify import baseline_claims, exit_code

    regs = _regs()
    refs = {m.name for m in regs.methods if m.reference}
    if methods:
        refs &= set(methods)
    claims = [c for c in baseline_claims(leaderboards_dir, refs) if not tasks or c.task in tasks]
    if not claims:
        raise BenchError(f"no committed numbers for reference methods in {leaderboards_dir}")
    code = exit_code(_judge_claims(claims, runs_dir, 0))
    raise SystemExit(1 if code == 1 else 0)


@main.command("validate-plugin")
@click.argument("name")
@click.option("--seed", type=int, default=0)
def validate_plugin(name: str, seed: int) -> None:
    """Run a method on tiny generated inputs and check its contract, one line per check."""
    from bench.lazy import resolve
    from bench.validate import validate_method

    regs = _regs()
    spec = regs.methods.get(name)
    protocol = resolve(regs.tasks.get(spec.task).protocol)
    checks = validate_method(spec, protocol, seed)
    for c in checks:
        click.echo(f"{'PASS' if c.ok else 'FAIL'}  {c.name}: {c.detail}")
    if not all(c.ok for c in checks):
        raise SystemExit(1)


@main.command("new-method")
@click.argument("name")
@click.option("--task", required=True, help="consonant-voicing or talking-face")
@click.option("--out", "out_dir", default=".", help="Where to create bench-NAME/.")
def new_method_cmd(name: str, task: str, out_dir: str) -> None:
    """Write a pip-installable plugin package skeleton for a new method."""
    from bench.scaffold import new_method

    root = new_method(name, task, out_dir)
    click.echo(f"created {root}; next: pip install -e {root} && bench validate-plugin {name}")


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("name")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def train(name: str, args: tuple[str, ...]) -> None:
    """Train the model behind method or weights NAME; ARGS go to its trainer.

    `bench train NAME -- --help` shows the trainer's own options.
    """
    from bench.lazy import resolve

    regs = _regs()
    spec = regs.methods.get(name) if name in regs.methods else None
    if spec is None and name in regs.weights:
        spec = regs.weights.get(name)
    if spec is None:
        trainable = sorted(s.name for s in [*regs.methods, *regs.weights] if s.trainer)
        from bench.errors import UnknownNameError

        raise UnknownNameError("trainable model", name, trainable)
    if spec.trainer is None:
        raise BenchError(f"{name!r} has no trainer; it is not trained by bench")
    resolve(spec.trainer)(list(args))


@main.group()
def weights() -> None:
    """Pretrained weights: list, fetch, import, verify."""


@weights.command("list")
def weights_list() -> None:
    """Every registered weights file, where it goes, and whether it is there and intact."""
    from bench.weights.commands import format_rows, list_rows

    click.echo(format_rows(list_rows(dict((s.name, s) for s in _regs().weights))))


@weights.command("fetch")
@click.argument("name")
@click.option("--force", is_flag=True, help="Download again even if present.")
def weights_fetch(name: str, force: bool) -> None:
    """Download NAME from its canonical URL and check it."""
    from bench.weights.commands import fetch_command

    click.echo(fetch_command(dict((s.name, s) for s in _regs().weights), name, force=force))


@weights.command("import")
@click.argument("name")
@click.argument("file", type=click.Path())
def weights_import(name: str, file: str) -> None:
    """Install a file you already have as NAME, after checking it."""
    from bench.weights.commands import import_command

    click.echo(import_command(dict((s.name, s) for s in _regs().weights), name, file))


@weights.command("verify")
@click.argument("names", nargs=-1)
def weights_verify(names: tuple[str, ...]) -> None:
    """Check files against their checksums and key sets; exit 1 unless all are present and intact."""
    from bench.weights.commands import format_rows, verify_command

    rows = verify_command(dict((s.name, s) for s in _regs().weights), names)
    click.echo(format_rows(rows))
    if not all(r["ok"] for r in rows):
        raise SystemExit(1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
