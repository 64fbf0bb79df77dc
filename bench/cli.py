"""The ``bench`` command line."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, Mapping

import click

from bench.execution import provenance
from bench.execution.config import tomllib
from bench.errors import BenchError
from bench.execution.layout import PUBLISHED_LEADERBOARDS, RunsLayout


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
            ctx.exit(getattr(exc, "exit_code", 2))
        finally:  # before interpreter exit, whose executor joins could wait on a hung worker
            from bench.execution.determinism import stop_pinned_worker

            stop_pinned_worker()


@click.group(cls=BenchGroup)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
@click.option("--offline", is_flag=True,
              help="Never download weights on first use (same as BENCH_OFFLINE=1).")
@click.pass_context
def main(ctx: click.Context, debug: bool, verbose: bool, offline: bool) -> None:
    """bench: evaluate talking-face and consonant-voicing methods."""
    ctx.obj = {"debug": debug}
    if offline:  # through the environment, so worker processes see it too
        os.environ["BENCH_OFFLINE"] = "1"
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s: %(message)s")


def _regs():
    from bench.discovery.loader import registries

    regs = registries()
    for p in regs.failed():
        click.echo(f"warning: plugin {p.name!r} failed to load: {p.error} (see `bench plugins`)",
                   err=True)
    return regs


KINDS = ("tasks", "datasets", "methods", "metrics", "weights", "reporters")
RUNS_HELP = "Records and caches (default: $BENCH_RUNS_DIR, else runs/)."
PUBLISH_HELP = ("Maintainers: make these records the committed baseline (baseline/) and rewrite "
                "the committed leaderboards/ from them.")
LIST_WIDTH = 100


@main.command("list")
@click.argument("kind", type=click.Choice(KINDS), required=False)
def list_cmd(kind: str | None) -> None:
    """List what the installed plugins registered."""
    regs = _regs()
    for k in [kind] if kind else KINDS:
        specs = list(getattr(regs, k))
        click.echo(f"{k}:")
        rows = [(s.name, getattr(s, "task", "") or "",
                 " ".join((getattr(s, "description", "") or "").split())) for s in specs]
        click.echo("\n".join(list_lines(rows)))


def list_lines(rows: list[tuple[str, str, str]], width: int = LIST_WIDTH) -> list[str]:
    """``name task description`` lines no wider than ``width``; long descriptions are shortened
    at a word boundary (``bench list`` is read in ordinary terminals)."""
    import textwrap

    name_w = max((len(r[0]) for r in rows), default=0)
    task_w = max((len(r[1]) for r in rows), default=0)
    out = []
    for name, task, desc in rows:
        head = f"  {name:{name_w}s} {task:{task_w}s} " if task_w else f"  {name:{name_w}s} "
        room = max(width - len(head), 10)
        out.append((head + textwrap.shorten(desc, room, placeholder=" ...")).rstrip()
                   if desc else head.rstrip())
    return out


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
@click.option("--executor", type=click.Choice(["overlap", "inprocess", "pool", "ray"]),
              default=None, help="Where units run (ray: see docs/distributed.md).")
@click.option("--workers", type=int, default=None,
              help="Pool processes, or units overlap runs at once (default 2), or CPUs of a "
                   "local Ray instance (default: all).")
@click.option("--address", default=None,
              help="Ray cluster to use (auto, HOST:PORT or ray://HOST:PORT); default: local.")
@click.option("--shard-size", type=int, default=None,
              help="Ray: samples per task (default: the task's choice).")
@click.option("--bootstrap", type=int, default=None, help="Bootstrap resamples for CIs.")
@click.option("--limit", type=int, default=None, help="Only the first N samples per split.")
@click.option("--runs-dir", default=None, help=RUNS_HELP)
@click.option("--leaderboards-dir", default=None,
              help="Default: RUNS_DIR/leaderboards (with --publish: leaderboards/).")
@click.option("--method-config", "method_config", multiple=True, metavar="METHOD.KEY=VALUE")
@click.option("--dataset-option", "dataset_option", multiple=True, metavar="DATASET.KEY=VALUE",
              help="An option for a dataset's loader, e.g. timit.root=/data/TIMIT.")
@click.option("--no-leaderboard", is_flag=True, help="Do not write the leaderboards.")
@click.option("--publish", is_flag=True, help=PUBLISH_HELP)
@click.option("--strict", is_flag=True, default=None,
              help="Fail on the first file a corpus cannot use instead of counting it.")
def run(config_path, tasks, methods, dataset, splits, metrics, seed, resume, executor, workers,
        address, shard_size, bootstrap, limit, runs_dir, leaderboards_dir, method_config,
        dataset_option, no_leaderboard, publish, strict) -> None:
    """Run methods on standard splits, score them, and write the leaderboards.

    Exit status: 0 every unit evaluated; 1 some units failed; 2 usage error (nothing run);
    3 nothing could be evaluated.
    """
    import dataclasses

    from bench.execution.config import load_config
    from bench.execution.executors import make_executor
    from bench.execution.integrity import check_writable, exit_status
    from bench.execution.planning import plan_units
    from bench.execution.runner import run_unit, runs_pinned

    regs = _regs()
    cfg = load_config(config_path, {
        "tasks": tasks, "methods": methods, "splits": splits, "metrics": metrics, "seed": seed,
        "resume": resume, "executor": executor, "workers": workers, "address": address,
        "shard_size": shard_size, "bootstrap": bootstrap,
        "limit": limit, "runs_dir": runs_dir, "leaderboards_dir": leaderboards_dir})
    for name, table in _parse_assignments(method_config, "--method-config").items():
        cfg.method_config.setdefault(name, {}).update(table)
    for name, table in _parse_assignments(dataset_option, "--dataset-option").items():
        cfg.dataset_options.setdefault(name, {}).update(table)
    if dataset:
        task_of = regs.datasets.get(dataset).task
        if cfg.tasks and task_of not in cfg.tasks:
            raise BenchError(f"--dataset {dataset}: a dataset of task {task_of!r}, but this run is "
                             f"of {', '.join(cfg.tasks)}")
        cfg.datasets[task_of] = dataset
    if publish and cfg.limit:  # refused before any work, not after it
        raise BenchError("--publish with --limit: the committed baseline holds full runs only")
    # a local Ray instance takes the whole machine unless --workers says otherwise
    executor_ = make_executor(cfg.executor, (workers or 0) if cfg.executor == "ray" else cfg.workers,
                              cfg.address, cfg.shard_size, pinned=runs_pinned)
    units = plan_units(cfg, regs, command=provenance.command_line())
    if strict:
        units = [dataclasses.replace(u, strict=True) for u in units]
    check_writable(cfg.runs_dir, "runs directory")
    if not no_leaderboard and not cfg.limit:
        check_writable(cfg.leaderboards_dir, "leaderboards directory")
    click.echo(f"running {len(units)} unit(s) with the {cfg.executor} executor", err=True)
    if cfg.limit:
        click.echo(f"smoke run (--limit {cfg.limit}): records are kept beside the full ones as "
                   f"<method>.limit{cfg.limit}.json and never feed a leaderboard", err=True)
    records = []
    for path in executor_.map(run_unit, units):
        rec = json.loads(Path(path).read_text())
        records.append(rec)
        summary = ", ".join(
            f"{m}={v['value']:.4g}" if v.get("value") is not None else f"{m}={v.get('status')}"
            for m, v in rec["metrics"].items())
        click.echo(f"{rec['method']['name']} on {rec['dataset']['name']}/"
                   f"{rec['dataset']['split']}: {summary}")
    if publish:
        _write_leaderboards(regs, cfg.runs_dir, leaderboards_dir or PUBLISHED_LEADERBOARDS,
                            publish=True)
    elif not no_leaderboard and not cfg.limit:
        _write_leaderboards(regs, cfg.runs_dir, cfg.leaderboards_dir)
    code = exit_status(records)
    if code:
        bad = sum(1 for r in records if not any(m.get("value") is not None
                                                for m in r["metrics"].values()))
        click.echo(f"{bad} of {len(records)} unit(s) could not be evaluated "
                   f"(exit status {code})", err=True)
    raise SystemExit(code)


def _write_leaderboards(regs: Any, runs_dir: str, out_dir: str, publish: bool = False) -> None:
    """Build the leaderboards (bench.reporting.pipeline) and print what was written and the tables."""
    from bench.reporting.pipeline import build_leaderboards

    written = build_leaderboards(regs, runs_dir, out_dir, publish,
                                 source=provenance.command_line())
    if written.manifest is not None:
        click.echo(f"wrote {written.manifest.parent} (the committed baseline)")
    for path in written.files:
        click.echo(f"wrote {path}")
    for p in sorted(Path(out_dir).glob("*.md")):
        click.echo(p.read_text())


@main.command()
@click.option("--runs-dir", default=None, help=RUNS_HELP)
@click.option("--out", "out_dir", default=None,
              help="Default: RUNS_DIR/leaderboards (with --publish: leaderboards/).")
@click.option("--publish", is_flag=True, help=PUBLISH_HELP)
def leaderboard(runs_dir: str | None, out_dir: str | None, publish: bool) -> None:
    """Build the leaderboards: the committed rows and your runs' rows, marked as yours."""
    from bench.execution.config import leaderboards_dir_for
    from bench.execution.records import find_records

    explicit = runs_dir is not None
    runs_dir = _runs_dir(runs_dir)
    if explicit or publish:  # a named directory must hold records; the default may be empty
        if not Path(runs_dir).is_dir():
            raise BenchError(f"--runs-dir {runs_dir}: no such directory")
        if not find_records(Path(runs_dir)):
            raise BenchError(f"--runs-dir {runs_dir}: no run records under "
                             f"{RunsLayout(runs_dir).records()}")
    if publish:
        _write_leaderboards(_regs(), runs_dir, out_dir or PUBLISHED_LEADERBOARDS, publish=True)
    else:
        _write_leaderboards(_regs(), runs_dir, out_dir or leaderboards_dir_for(runs_dir))


@main.command()
@click.argument("run")
@click.option("--runs-dir", default=None, help=RUNS_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the whole record.")
def show(run: str, runs_dir: str | None, as_json: bool) -> None:
    """Show a run record: a path, or TASK/DATASET/SPLIT/METHOD (yours, else the committed one)."""
    from bench.reporting.compare import resolve

    if run.count("/") != 3 and not run.endswith(".json"):
        raise BenchError(f"{run!r}: expected TASK/DATASET/SPLIT/METHOD or a record file (.json)")
    rec = resolve(run, _runs_dir(runs_dir))[0].record
    if as_json:
        click.echo(json.dumps(rec, indent=2))
        return
    click.echo(format_record(rec))


def format_record(rec: Mapping[str, Any]) -> str:
    """A run record as a few header lines and one aligned row per metric."""
    from bench.weights.commands import format_rows

    ds, m = rec["dataset"], rec["method"]
    cov = rec.get("coverage", {})
    lines = [f"{m['name']} {m['version']} on {rec['task']['name']} / {ds['name']} / {ds['split']}",
             f"  samples: {ds['n_samples']} (manifest {ds['manifest_hash'][:12]})",
             f"  predictions: {cov.get('n_ok')} of {cov.get('n_total')} ok"
             + (f", status {cov['status']}" if cov.get("status") not in (None, "ok") else "")]
    timing = rec.get("timing") or {}
    if timing:
        lines.append("  time: " + ", ".join(f"{k} {v:.1f} s" for k, v in timing.items()))
    lines.append(f"  created: {rec.get('created', '?')}")
    if (m.get("code") or {}).get("stale_cache"):
        lines.append("  WARNING: predictions were cached by other code under the same version "
                     f"({m['version']}); bump the method's version to recompute them")
    lines.append(f"  reproduce: {rec.get('reproduce')}")
    rows = []
    for name, r in rec["metrics"].items():
        ci = r.get("ci")
        rows.append({
            "metric": name,
            "value": f"{r['value']:.4g}" if r.get("value") is not None else "n/a",
            "95% CI": f"[{ci[0]:.4g}, {ci[1]:.4g}]" if ci else "",
            "scored": f"{r.get('n_scored', 0)} of {r.get('n_total', 0)}",
            "status": r.get("status", ""),
            "note": (r.get("message") or "")[:60],
        })
    table = format_rows(rows) if rows else "(no metrics)"
    return "\n".join(lines) + "\n\n" + "\n".join("  " + t for t in table.splitlines())


def _runs_dir(runs_dir: str | None) -> str:
    from bench.execution.config import default_runs_dir

    return runs_dir or default_runs_dir()


@main.command()
@click.argument("run_a")
@click.argument("run_b")
@click.option("--runs-dir", default=None, help=RUNS_HELP)
@click.option("--task", default=None, help="Only this task (when a method ran on several).")
@click.option("--dataset", default=None, help="Only this dataset.")
@click.option("--split", default=None, help="Only this split.")
@click.option("--resamples", type=int, default=1000)
def compare(run_a: str, run_b: str, runs_dir: str | None, task, dataset, split,
            resamples: int) -> None:
    """Compare RUN_B against RUN_A with paired tests; exit 1 if B is significantly worse.

    Each run is a method name, TASK/DATASET/SPLIT/METHOD or a record file. Names and ids are
    looked up in the runs directory, then in the committed baseline; committed:NAME means the
    committed run only. A method on several splits is compared on each shared one.
    """
    from bench.reporting.compare import compare_sides, format_comparison, pair, resolve
    from bench.reporting.significance import paired_tests

    regs = _regs()
    runs = _runs_dir(runs_dir)
    known = {m.name: m for m in regs.methods}
    pairs = pair(resolve(run_a, runs, known), resolve(run_b, runs, known), task, dataset, split)
    worse = False
    for a, b in pairs:
        diffs = compare_sides(a, b, paired_tests(regs.metrics, a.record["metrics"]), resamples)
        click.echo(format_comparison(a, b, diffs) + "\n")
        worse |= any(d.verdict == "worse" for d in diffs)
    if worse:
        raise SystemExit(1)


def _judge_claims(claims, runs_dir: str, purpose: str, dataset_options=None) -> list:
    """One run per unit (all its claimed metrics at once), recorded under RUNS_DIR/PURPOSE."""
    from bench.execution.integrity import check_writable
    from bench.execution.runner import Unit, run_unit
    from bench.reporting.verify import judge

    check_writable(runs_dir, "runs directory")
    by_unit: dict[tuple[str, str, str, str], list] = {}
    for c in claims:
        by_unit.setdefault((c.task, c.method, c.dataset, c.split), []).append(c)
    verdicts = []
    for (task, method, dataset, split), group in by_unit.items():
        metrics = tuple(dict.fromkeys(c.metric for c in group))
        unit = Unit(task=task, method=method, dataset=dataset, split=split, metrics=metrics,
                    runs_dir=runs_dir, purpose=purpose,
                    dataset_options=(dataset_options or {}).get(dataset, {}))
        rec = json.loads(Path(run_unit(unit)).read_text())
        for c in group:
            v = judge(c, rec["metrics"][c.metric])
            verdicts.append(v)
            click.echo(f"[{v.status}] {c.method} {c.dataset}/{c.split} {c.metric}: {v.message}")
    return verdicts


@main.command()
@click.argument("claims_file", type=click.Path())
@click.option("--runs-dir", default=None, help=RUNS_HELP)
@click.option("--dataset-option", "dataset_option", multiple=True, metavar="DATASET.KEY=VALUE",
              help="An option for a dataset's loader, e.g. topcap-features.path=FILE.")
def verify(claims_file: str, runs_dir: str | None, dataset_option) -> None:
    """Re-run a paper's claimed numbers ([[claim]] tables) and say which hold.

    A claim with tolerance = T holds when |measured - value| <= T; one with within = "ci" when
    the value lies in the measured 95% CI. Each verdict shows how many samples were scored.
    """
    from bench.reporting.verify import check_claims, exit_code, load_claims

    regs = _regs()
    claims = load_claims(claims_file)
    check_claims(claims, regs, claims_file)
    options = _parse_assignments(dataset_option, "--dataset-option")
    verdicts = _judge_claims(claims, _runs_dir(runs_dir), "verify", options)
    raise SystemExit(exit_code(verdicts))


@main.command()
@click.option("--leaderboards-dir", default=None,
              help="Read the committed numbers from these leaderboard CSVs instead of the "
              "committed baseline.")
@click.option("--runs-dir", default=None, help=RUNS_HELP)
@click.option("--task", "tasks", multiple=True, help="Only these tasks (the fast subset).")
@click.option("--method", "methods", multiple=True, help="Only these reference methods.")
def check(leaderboards_dir: str | None, runs_dir: str | None, tasks, methods) -> None:
    """Re-evaluate reference models; fail when a number strays from its committed value by more
    than the tolerance its method declares (exact unless declared)."""
    from bench.reporting import baseline
    from bench.errors import UnknownNameError
    from bench.reporting.verify import baseline_claims, committed_claims, exit_code

    regs = _regs()
    refs = {m.name for m in regs.methods if m.reference}
    for name in methods:
        if name not in regs.methods:
            raise UnknownNameError("method", name, [m.name for m in regs.methods])
        if name not in refs:
            raise BenchError(f"{name!r} is not a reference method; bench check re-evaluates only "
                             f"reference methods ({', '.join(sorted(refs))}). To check another "
                             f"method use bench compare committed:{name} {name} or bench verify")
    if methods:
        refs &= set(methods)
    specs = {m.name: m for m in regs.methods if m.name in refs}
    if leaderboards_dir:
        where, found = leaderboards_dir, baseline_claims(leaderboards_dir, specs)
    else:
        where, found = f"the committed baseline ({baseline.baseline_dir()})", \
            committed_claims(baseline.load(), specs)
    claims = [c for c in found if not tasks or c.task in tasks]
    if not claims:
        what = ", ".join(sorted(refs)) or "none registered"
        raise BenchError(f"no committed numbers in {where} for the reference methods ({what})"
                         + (f" on task(s) {', '.join(tasks)}" if tasks else ""))
    code = exit_code(_judge_claims(claims, _runs_dir(runs_dir), "check"))
    raise SystemExit(1 if code == 1 else 0)


@main.command("validate-plugin")
@click.argument("name")
@click.option("--seed", type=int, default=0)
def validate_plugin(name: str, seed: int) -> None:
    """Check a method (on tiny generated inputs) or a metric against its contract and declared
    capabilities, one line per check."""
    from bench.lazy import resolve
    from bench.devtools.validate import validate_method, validate_metric

    regs = _regs()
    if name not in regs.methods and name in regs.metrics:
        checks = validate_metric(regs.metrics.get(name))
    else:
        spec = regs.methods.get(name)
        task = regs.tasks.get(spec.task)
        checks = validate_method(spec, resolve(task.protocol), seed, task)
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
    from bench.devtools.scaffold import bench_script, install_command, new_method

    root = new_method(name, task, out_dir)
    click.echo(f"created {root}; next: {install_command(root)} && "
               f"{bench_script()} validate-plugin {name}")


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
@click.option("--force", is_flag=True,
              help="Install even if the sha256 does not match or cannot be checked; the file is "
                   "then recorded as unverified and every record made with it says so.")
def weights_import(name: str, file: str, force: bool) -> None:
    """Install a file you already have as NAME, after checking its sha256 and keys."""
    from bench.weights.commands import import_command

    click.echo(import_command(dict((s.name, s) for s in _regs().weights), name, file, force))


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
