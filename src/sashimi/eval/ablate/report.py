"""`sashimi ablate report OUT`: the report of an ablation folder, regenerated from its run folders only.

Reads what `sashimi ablate` writes (layout: the module docstring of the runner / docs/RESULTS.md):
`OUT/matrix.json`, `OUT/runs/<run>/seed<k>/{result.json, train/, eval/<evalset>/{summary,rows}.json*}`,
`OUT/baselines/<evalset>/summary.json`; writes, each atomically:

- `OUT/report.md`: per run and evaluation set the mean ± std over seeds and a pooled 95 % bootstrap
  interval of validity and fidelity, the baselines in the same table, seed status counts (a failed,
  early-exited, unfinished or missing seed is always shown), parameter counts, packed size, wall times;
  the paired comparisons of the research questions with a verdict; the plan 5.3 promotion gates; the
  early exits; the plots;
- `OUT/results.csv` (one line per run or baseline and evaluation set) and `OUT/comparisons.csv`;
- `OUT/plots/*.png` (`plots.py`).

Statistics (why this way):
- "mean ± std" is over the seeds' own summary values (training randomness);
- the pooled interval and the paired comparisons resample gold rows: each row's value is first averaged
  over the run's evaluated seeds, then `sashimi.eval.bootstrap` resamples rows. A row is the unit that
  repeats across seeds (the same prompt), so resampling rows × seeds as if independent would make the
  interval too narrow;
- a comparison (a, b) is b − a over the rows both runs scored, per row after the seed mean (paired: the
  same row ids); "better" / "worse" when the 95 % interval excludes 0, else "no measurable difference".
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sashimi.errors import DataError, Location
from sashimi.eval.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED, table_cis
from sashimi.eval.gates import check_gates
from sashimi.eval.harness import METRIC_KEYS, latency, metric_columns
from sashimi.io import atomic_write_text, read_json, read_jsonl

# The research questions of plan 4.1 as (reference, candidate) pairs: the difference is candidate −
# reference. A matrix's `comparisons:` replaces these; the defaults apply to the pairs the matrix has.
DEFAULT_COMPARISONS: tuple[tuple[str, str], ...] = (
    ("4.1.1", "4.1.3"),  # ternary
    ("4.1.3", "4.1.4"),  # hard negatives
    ("4.1.4", "4.1.5"),  # typed IR vs DSL text
    ("4.1.4", "4.1.6"),  # full vs partial ternary
    ("4.1.4", "4.1.7"),  # bottleneck 64
    ("4.1.4", "4.1.8"),  # bottleneck 256
    ("4.1.4", "4.1.4-noretrieval"),  # retrieval augmentation
)
COMPARED_METRICS = ("action_f1", "skeleton_exact")
VALIDITY_SHOWN = ("compile_strict_rate", "compile_permissive_rate", "parse_rate")
FIDELITY_SHOWN = ("action_f1", "skeleton_exact", "tier1_exact", "param_key_f1", "exact")
LABELS = {
    "compile_strict_rate": "compile strict",
    "compile_permissive_rate": "compile permissive",
    "parse_rate": "parse",
    "action_f1": "action F1",
    "skeleton_exact": "skeleton exact",
    "tier1_exact": "Tier 1 exact",
    "param_key_f1": "param-key F1",
    "exact": "canonical exact",
}
STATUSES = ("done", "early_exit", "failed", "incomplete", "missing")
EVALUATED = ("done", "early_exit")  # seeds whose evaluation counts (an early exit is a result too)
GATES_EVALSET = "real_dev"
BOTTLENECK_KEY = "model.d_bottleneck"
FLOAT_DTYPE = "float16"  # packed size: ternary at 2 bits + scales, every other tensor float16
_SEED_DIR = re.compile(r"^seed(\d+)$")


# --------------------------------------------------------------------------------------------- reading


@dataclass
class SeedRun:
    """One seed of one run, as its folder holds it."""

    run: str
    seed: int
    path: Path
    status: str  # one of STATUSES
    error: str | None = None
    result: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)  # train/meta.json
    rows: dict[str, list[dict]] = field(default_factory=dict)  # evalset -> eval rows
    summaries: dict[str, dict] = field(default_factory=dict)  # evalset -> the system's summary entry

    @property
    def early_exit(self) -> dict | None:
        ee = self.meta.get("early_exit") or self.result.get("early_exit")
        return ee if isinstance(ee, dict) else None


@dataclass
class Run:
    name: str
    question: str
    overrides: dict[str, Any]
    seeds: list[SeedRun]
    expected_seeds: int | None = None

    def evaluated(self, evalset: str) -> list[SeedRun]:
        return [s for s in self.seeds if s.status in EVALUATED and evalset in s.rows]

    def status_counts(self) -> dict[str, int]:
        counts = {k: 0 for k in STATUSES}
        for s in self.seeds:
            counts[s.status] += 1
        if self.expected_seeds is not None:
            counts["missing"] += max(0, self.expected_seeds - len(self.seeds))
        return counts


def _system_entry(summary: dict, run: str, where: Path) -> dict:
    systems = summary.get("systems")
    if not isinstance(systems, dict) or not systems:
        raise DataError("not an evaluation summary (no 'systems')", Location(str(where)))
    order = summary.get("order") or list(systems)
    return systems[run] if run in systems else systems[order[0]]


def _read_seed(run: str, seed: int, path: Path, evalsets: Sequence[str]) -> SeedRun:
    result_path = path / "result.json"
    if not result_path.is_file():
        # no done marker: still running, killed, or not started; shown, never dropped
        return SeedRun(run, seed, path, "incomplete", error="no result.json (unfinished or killed)")
    result = read_json(result_path)
    if not isinstance(result, dict):
        raise DataError("result.json must be a JSON object", Location(str(result_path)))
    status = str(result.get("status", ""))
    if status not in ("done", "early_exit", "failed"):  # shown as unfinished, with what the file says
        return SeedRun(run, seed, path, "incomplete", f"result.json has status {status!r}", result)
    meta_path = path / "train" / "meta.json"
    meta = read_json(meta_path) if meta_path.is_file() else {}
    seed_run = SeedRun(
        run, seed, path, status, result.get("error"), result, meta if isinstance(meta, dict) else {}
    )
    if status == "failed":
        return seed_run
    for evalset in evalsets:
        summary_path = path / "eval" / evalset / "summary.json"
        rows_path = path / "eval" / evalset / "rows.jsonl"
        if summary_path.is_file() and rows_path.is_file():
            seed_run.summaries[evalset] = _system_entry(read_json(summary_path), run, summary_path)
            seed_run.rows[evalset] = read_jsonl(rows_path)
    return seed_run


def _seed_list(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, list):
        return len(value)
    return None


def load_matrix_json(out: Path) -> dict:
    path = out / "matrix.json"
    if not path.is_file():
        return {}
    matrix = read_json(path)
    if not isinstance(matrix, dict):
        raise DataError("matrix.json must be a JSON object", Location(str(path)))
    return matrix


def evalsets_of(out: Path, matrix: dict) -> list[str]:
    """The matrix's evaluation sets; without a matrix.json, those any run or baseline has."""
    if isinstance(matrix.get("eval"), dict) and matrix["eval"]:
        return [str(k) for k in matrix["eval"]]
    found = {p.name for p in out.glob("runs/*/seed*/eval/*") if p.is_dir()}
    found |= {p.name for p in out.glob("baselines/*") if p.is_dir()}
    return sorted(found, key=lambda e: (e != GATES_EVALSET, e))


def load_runs(out: Path, matrix: dict, evalsets: Sequence[str]) -> list[Run]:
    """Every run of the matrix (in its order, also those with no folder yet), then any other run folder."""
    specs = [r for r in matrix.get("runs") or [] if isinstance(r, dict) and "name" in r]
    expected = _seed_list(matrix.get("seeds"))
    history = out / "ablate.json"  # the runner's invocation records: the seed count lives there
    if expected is None and history.is_file():
        records = read_json(history)
        if isinstance(records, list) and records and isinstance(records[-1], dict):
            expected = _seed_list(records[-1].get("seeds"))
    names = [str(r["name"]) for r in specs]
    runs_dir = out / "runs"
    extra = (
        sorted(p.name for p in runs_dir.iterdir() if p.is_dir() and p.name not in names)
        if runs_dir.is_dir()
        else []
    )
    out_runs: list[Run] = []
    for name in names + extra:
        spec = next((r for r in specs if str(r["name"]) == name), {})
        seeds = []
        folder = runs_dir / name
        if folder.is_dir():
            for p in sorted(folder.iterdir(), key=lambda q: (len(q.name), q.name)):
                m = _SEED_DIR.match(p.name)
                if m and p.is_dir():
                    seeds.append(_read_seed(name, int(m.group(1)), p, evalsets))
        overrides = spec.get("set")
        if not isinstance(overrides, dict):
            overrides = next(
                (s.result.get("overrides") for s in seeds if isinstance(s.result.get("overrides"), dict)), {}
            )
        out_runs.append(Run(name, str(spec.get("question", "")), dict(overrides), seeds, expected))
    return out_runs


def load_baselines(out: Path, evalsets: Sequence[str]) -> dict[str, list[tuple[str, dict]]]:
    """evalset -> [(baseline name, summary entry)] in the summary's order."""
    found: dict[str, list[tuple[str, dict]]] = {}
    for evalset in evalsets:
        path = out / "baselines" / evalset / "summary.json"
        if not path.is_file():
            continue
        summary = read_json(path)
        systems = summary.get("systems") if isinstance(summary, dict) else None
        if not isinstance(systems, dict):
            raise DataError("not an evaluation summary (no 'systems')", Location(str(path)))
        order = summary.get("order") or list(systems)
        found[evalset] = [(name, systems[name]) for name in order]
    return found


# ------------------------------------------------------------------------------------------ statistics


def seed_row_matrices(
    seeds: Sequence[SeedRun], evalset: str, keys: Sequence[str] = METRIC_KEYS
) -> tuple[list[str], dict[str, np.ndarray]]:
    """(row ids, {metric: (rows, seeds) values}) — the ids of the first seed, in gold order.

    A row a seed lacks (it should not: rows.jsonl is aligned with the gold file) counts as undefined for
    that seed; a metric undefined for a row in every seed stays NaN (left out, as in the harness)."""
    if not seeds:
        return [], {k: np.zeros((0, 0)) for k in keys}
    ids = [str(r["id"]) for r in seeds[0].rows[evalset]]
    stacked: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    for s in seeds:
        rows = s.rows[evalset]
        cols = metric_columns(rows, keys)
        position = {str(r["id"]): i for i, r in enumerate(rows)}
        take = np.array([position.get(i, -1) for i in ids])
        for k in keys:
            values = np.where(take >= 0, cols[k][np.maximum(take, 0)] if len(rows) else np.nan, np.nan)
            stacked[k].append(values)
    return ids, {k: np.vstack(v).T for k, v in stacked.items()}


def _nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: the mean is NaN, as wanted
        return np.nanmean(values, axis=axis)


def seed_mean_columns(
    seeds: Sequence[SeedRun], evalset: str, keys: Sequence[str] = METRIC_KEYS
) -> tuple[list[str], dict[str, np.ndarray]]:
    """(row ids, {metric: per-row mean over the seeds}); see `seed_row_matrices`."""
    ids, matrices = seed_row_matrices(seeds, evalset, keys)
    return ids, {k: _nanmean(m, axis=1) if ids else np.zeros(0) for k, m in matrices.items()}


@dataclass
class RunStats:
    """One run on one evaluation set."""

    seeds_evaluated: int
    n_rows: int
    mean: dict[str, float | None]
    std: dict[str, float | None]
    pooled: dict[str, dict[str, float | None]]  # table_cis output
    ids: list[str]
    row_means: dict[str, np.ndarray]
    latency: dict
    row_seed: dict[str, np.ndarray] = field(default_factory=dict)  # (rows, seeds) per metric


def run_stats(run: Run, evalset: str, *, resamples: int, seed: int) -> RunStats:
    seeds = run.evaluated(evalset)
    per_seed: dict[str, list[float]] = {k: [] for k in METRIC_KEYS}
    for s in seeds:
        metrics = s.summaries[evalset].get("metrics", {})
        for k in METRIC_KEYS:
            v = metrics.get(k)
            if isinstance(v, int | float) and not isinstance(v, bool):
                per_seed[k].append(float(v))
    mean = {k: float(np.mean(v)) if v else None for k, v in per_seed.items()}
    std = {k: float(np.std(v, ddof=1)) if len(v) > 1 else None for k, v in per_seed.items()}
    ids, matrices = seed_row_matrices(seeds, evalset)
    row_means = {k: _nanmean(m, axis=1) if ids else np.zeros(0) for k, m in matrices.items()}
    pooled = table_cis(row_means, resamples=resamples, seed=seed) if ids else {}
    all_rows = [r for s in seeds for r in s.rows[evalset]]
    return RunStats(
        len(seeds), len(ids), mean, std, pooled, ids, row_means, latency(all_rows),
        {k: matrices[k] for k in COMPARED_METRICS},
    )  # fmt: skip


def two_level_diff_ci(
    a: np.ndarray, b: np.ndarray, *, resamples: int, seed: int, level: float = 0.95
) -> tuple[float | None, float | None]:
    """Percentile interval of mean(b) − mean(a) when both the rows (shared: paired) and each run's seeds
    (independently, with replacement) are resampled. `a`, `b`: (rows, seeds) on the same rows. With the
    seed draw, a difference that one lucky training seed makes does not pass for a measured one."""
    n = a.shape[0]
    if n == 0 or a.shape[1] == 0 or b.shape[1] == 0:
        return None, None
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n, size=(resamples, n))
    pick_a = rng.integers(0, a.shape[1], size=(resamples, a.shape[1]))
    pick_b = rng.integers(0, b.shape[1], size=(resamples, b.shape[1]))
    # per resample r: each row's mean over the drawn seeds, then the mean over the drawn rows
    mean_a = _nanmean(a[:, pick_a], axis=2)  # (rows, resamples)
    mean_b = _nanmean(b[:, pick_b], axis=2)
    cols = np.arange(resamples)[:, None]
    diffs = _nanmean(mean_b[rows, cols] - mean_a[rows, cols], axis=1)
    diffs = diffs[~np.isnan(diffs)]
    if diffs.size == 0:
        return None, None
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(diffs, [tail, 100.0 - tail])
    return float(low), float(high)


@dataclass
class Comparison:
    a: str
    b: str
    evalset: str
    metric: str
    n: int
    diff: float | None
    low: float | None
    high: float | None
    verdict: str  # "better" | "worse" | "no measurable difference" | "not available: ..."
    seed_low: float | None = None  # the interval with seeds resampled too (`two_level_diff_ci`)
    seed_high: float | None = None
    seed_verdict: str = "not available"


def verdict(low: float | None, high: float | None) -> str:
    """b relative to a from the interval of b − a."""
    if low is None or high is None:
        return "not available: no interval"
    if low > 0:
        return "better"
    if high < 0:
        return "worse"
    return "no measurable difference"


def paired_comparison(
    a: RunStats | None,
    b: RunStats | None,
    names: tuple[str, str],
    evalset: str,
    metric: str,
    *,
    resamples: int,
    seed: int,
) -> Comparison:
    """b − a over the rows both scored (each row averaged over its run's seeds), bootstrap over rows."""
    for name, stats in zip(names, (a, b), strict=True):
        if stats is None or not stats.ids:
            return Comparison(
                *names, evalset, metric, 0, None, None, None, f"not available: {name} has no evaluated seed"
            )
    assert a is not None and b is not None
    where_b = {i: k for k, i in enumerate(b.ids)}
    common = [(k, where_b[i]) for k, i in enumerate(a.ids) if i in where_b]
    if not common:
        return Comparison(*names, evalset, metric, 0, None, None, None, "not available: no common rows")
    ia, ib = np.array(common).T
    diff = b.row_means[metric][ib] - a.row_means[metric][ia]
    ci = table_cis({"d": diff}, resamples=resamples, seed=seed)["d"]
    seed_low, seed_high = (None, None)
    if metric in a.row_seed and metric in b.row_seed:
        seed_low, seed_high = two_level_diff_ci(
            a.row_seed[metric][ia], b.row_seed[metric][ib], resamples=resamples, seed=seed
        )
    return Comparison(
        *names,
        evalset,
        metric,
        int(ci["n"] or 0),
        ci["value"],
        ci["ci_low"],
        ci["ci_high"],
        verdict(ci["ci_low"], ci["ci_high"]),
        seed_low,
        seed_high,
        verdict(seed_low, seed_high),
    )


def comparison_pairs(matrix: dict, run_names: Sequence[str]) -> list[tuple[str, str]]:
    """The matrix's `comparisons` (pairs [a, b] or {a, b}); else the defaults whose runs the matrix has."""
    raw = matrix.get("comparisons")
    pairs: list[tuple[str, str]] = []
    for item in raw or []:
        if isinstance(item, list | tuple) and len(item) == 2:
            pairs.append((str(item[0]), str(item[1])))
        elif isinstance(item, dict) and "a" in item and "b" in item:
            pairs.append((str(item["a"]), str(item["b"])))
        else:
            raise DataError(f"comparisons: {item!r} is not a pair of run names", Location("matrix.json"))
    if pairs:
        return pairs
    return [p for p in DEFAULT_COMPARISONS if p[0] in run_names and p[1] in run_names]


# ------------------------------------------------------------------------------------- model figures


def packed_size(train_dir: Path) -> dict[str, Any]:
    """Packed bytes of a run's weights as `sashimi export` would store them with float16: ternary layers at
    2 bits per weight + their scales, every other tensor float16 (`model.export.packed_state`), computed
    from `train/model.safetensors` without writing anything."""
    from safetensors.torch import load_file

    from sashimi.model.decoder import DecoderConfig, SashimiDecoder
    from sashimi.model.export import packed_state

    config = read_json(train_dir / "config.json")
    if not isinstance(config, dict) or not isinstance(config.get("decoder"), dict):
        raise DataError("config.json needs a 'decoder' object", Location(str(train_dir / "config.json")))
    model = SashimiDecoder(DecoderConfig.from_json(config["decoder"]))
    model.load_state_dict(load_file(str(train_dir / "model.safetensors")), strict=True)
    model.set_ternary_active(True)  # the exported form: every layer of the regime ternary
    _, layout = packed_state(model, FLOAT_DTYPE)
    return {
        "ternary_bytes": int(layout["ternary_bytes"]),
        "other_bytes": int(layout["other_bytes"]),
        "total_bytes": int(layout["ternary_bytes"] + layout["other_bytes"]),
        "ternary_weights": int(layout["ternary_weights"]),
    }


@dataclass
class RunModel:
    params_total: int | None
    params_ternary: int | None
    packed: dict[str, Any] | None
    packed_note: str | None
    wall: dict[str, float | None]  # mean over evaluated-or-failed seeds that recorded it
    separability: float | None  # mean over seeds of the final dev separability (train meta)
    d_bottleneck: int | None


WALL_PARTS = ("train", "generate", "evaluate")


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def seed_times(seed: SeedRun) -> dict[str, float | None]:
    """Wall and CPU seconds of one seed. Training wall is the trainer's own cumulative figure (meta.json:
    it survives a resume, where the runner's invocation-wall would only count the last part); generate and
    evaluate come from the runner's result.json; total = their sum. CPU seconds (user + system of the
    child commands) are the runner's `cpu_seconds`, which count the invocation that finished the job."""
    walls = seed.result.get("wall_seconds") if isinstance(seed.result.get("wall_seconds"), dict) else {}
    cpu = seed.result.get("cpu_seconds") if isinstance(seed.result.get("cpu_seconds"), dict) else {}
    out: dict[str, float | None] = {
        "train": _num(seed.meta.get("wall_seconds"))
        or _num(seed.result.get("train_wall_seconds"))
        or _num(walls.get("train")),
        "generate": _num(walls.get("generate")),
        "evaluate": _num(walls.get("evaluate")),
    }
    parts = [out[p] for p in WALL_PARTS]
    out["total"] = (
        sum(parts)
        if all(v is not None for v in parts)
        else _num(walls.get("total", walls.get("total_this_invocation")))
    )
    for p in WALL_PARTS:
        out[f"cpu_{p}"] = _num(cpu.get(p))
    out["cpu_total"] = _num(cpu.get("total_this_invocation", cpu.get("total")))
    return out


def _params(seed: SeedRun) -> dict:
    p = seed.result.get("params") or seed.meta.get("params") or {}
    return p if isinstance(p, dict) else {}


def run_model(run: Run) -> RunModel:
    params = next((_params(s) for s in run.seeds if _params(s)), {})
    packed, note = None, "no seed with trained weights"
    for s in run.seeds:
        train = s.path / "train"
        if s.status in EVALUATED and (train / "model.safetensors").is_file():
            try:
                packed, note = packed_size(train), None
            except Exception as err:  # one odd run must not stop the report; its cell says why
                note = f"not computed: {type(err).__name__}: {err}".splitlines()[0][:160]
            break
    per_seed = [seed_times(s) for s in run.seeds if s.status in EVALUATED]
    wall: dict[str, float | None] = {}
    for key in (*WALL_PARTS, "total", *(f"cpu_{p}" for p in WALL_PARTS), "cpu_total"):
        values = [t[key] for t in per_seed if t.get(key) is not None]
        wall[key] = float(np.mean(values)) if values else None
    seps = [
        float(v)
        for s in run.seeds
        if s.status in EVALUATED
        and isinstance(
            v := ((s.meta.get("metrics") or {}).get("dev") or {}).get("separability_nats"), int | float
        )
    ]
    width = run.overrides.get(BOTTLENECK_KEY)
    if width is None:
        for s in run.seeds:
            cfg_path = s.path / "train" / "config.json"
            if cfg_path.is_file():
                width = (read_json(cfg_path).get("decoder") or {}).get("d_bottleneck")
                break
    return RunModel(
        params_total=params.get("total"),
        params_ternary=params.get("ternary"),
        packed=packed,
        packed_note=note,
        wall=wall,
        separability=float(np.mean(seps)) if seps else None,
        d_bottleneck=int(width) if isinstance(width, int | float) else None,
    )


def gate_report() -> dict | None:
    """The shipped domain gate's report: every configuration sits behind the same gate, so its held-out
    OOD false-accept rate is the figure the gate row shows."""
    from sashimi.model.gate import ASSET_DIR

    path = ASSET_DIR / "gate.json"
    return read_json(path) if path.is_file() else None


def run_gates(name: str, stats: RunStats, model: RunModel, gate: dict | None) -> dict:
    """`gates.check_gates` on the run's pooled real-dev summary (seed-averaged rows), with the run's
    parameter count and mean dev separability as the model report."""
    summary = {
        "n": stats.n_rows,
        "systems": {
            name: {
                "metrics": {k: v["value"] for k, v in stats.pooled.items()},
                "ci": {k: [v["ci_low"], v["ci_high"]] for k, v in stats.pooled.items()},
                "latency": stats.latency,
            }
        },
        "order": [name],
    }
    model_report = {"params_total": model.params_total, "separability_nats": model.separability}
    return check_gates(summary, gate_report=gate, model_report=model_report, system=name)


def bottleneck_sweeps(runs: Sequence[Run], models: dict[str, RunModel]) -> list[list[str]]:
    """Groups of runs whose overrides differ only in model.d_bottleneck (≥ 2 widths), sorted by width."""
    groups: dict[str, list[str]] = {}
    for run in runs:
        if models[run.name].d_bottleneck is None:
            continue
        key = json.dumps(
            {k: v for k, v in run.overrides.items() if k != BOTTLENECK_KEY}, sort_keys=True, default=str
        )
        groups.setdefault(key, []).append(run.name)
    sweeps = []
    for names in groups.values():
        widths = {models[n].d_bottleneck for n in names}
        if len(widths) >= 2:
            sweeps.append(sorted(names, key=lambda n: (models[n].d_bottleneck, n)))
    return sweeps


# ------------------------------------------------------------------------------------------ formatting


def _f(x: float | None, digits: int = 3) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _cell(stats: RunStats, key: str) -> str:
    pooled = stats.pooled.get(key) or {}
    if stats.mean.get(key) is None and pooled.get("value") is None:
        return "—"
    text = _f(stats.mean.get(key))
    if stats.std.get(key) is not None:
        text += f" ± {_f(stats.std[key])}"
    if pooled.get("ci_low") is not None:
        text += f" [{_f(pooled['ci_low'])}, {_f(pooled['ci_high'])}]"
    return text


def _baseline_cell(entry: dict, key: str) -> str:
    value = (entry.get("metrics") or {}).get(key)
    if value is None:
        return "—"
    low, high = ((entry.get("ci") or {}).get(key) or [None, None])[:2]
    return _f(value) + (f" [{_f(low)}, {_f(high)}]" if low is not None else "")


def _status_text(counts: dict[str, int]) -> str:
    parts = []
    for k in STATUSES:
        if counts[k]:
            word = k.replace("_", " ")
            parts.append(f"{counts[k]} {word}" if k in ("done",) else f"**{counts[k]} {word}**")
    return ", ".join(parts) or "**no seed**"


def _bytes(n: int | None) -> str:
    if n is None:
        return "—"
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def _overrides_text(overrides: dict) -> str:
    return ", ".join(f"`{k}={json.dumps(v)}`" for k, v in overrides.items()) or "(base)"


def _gate_value(key: str, value: float | None) -> str:
    if value is None:
        return "—"
    if key == "params_total":
        return f"{value / 1e6:.2f} M"
    if key.endswith("_rate"):
        return f"{100 * value:.1f} %"
    if key == "latency_p95_ms":
        return f"{value:,.0f} ms"
    return f"{value:.2f}"


# ---------------------------------------------------------------------------------------------- report


@dataclass
class Report:
    out: Path
    matrix: dict
    evalsets: list[str]
    runs: list[Run]
    baselines: dict[str, list[tuple[str, dict]]]
    stats: dict[tuple[str, str], RunStats]  # (run, evalset)
    models: dict[str, RunModel]
    comparisons: list[Comparison]
    gates: dict[str, dict]  # run -> check_gates result (on GATES_EVALSET or the first evalset)
    gates_evalset: str | None
    sweeps: list[list[str]]
    resamples: int
    seed: int


def build_report(
    out_dir: str | Path, *, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
) -> Report:
    """Read an ablation folder and compute every figure of the report (nothing written)."""
    out = Path(out_dir)
    if not out.is_dir():
        raise DataError("ablation folder not found", Location(str(out)))
    matrix = load_matrix_json(out)
    if not matrix and not (out / "runs").is_dir():
        raise DataError("not an ablation folder (no matrix.json and no runs/)", Location(str(out)))
    evalsets = evalsets_of(out, matrix)
    runs = load_runs(out, matrix, evalsets)
    baselines = load_baselines(out, evalsets)
    stats = {(r.name, e): run_stats(r, e, resamples=resamples, seed=seed) for r in runs for e in evalsets}
    models = {r.name: run_model(r) for r in runs}
    names = [r.name for r in runs]
    comparisons = []
    for a, b in comparison_pairs(matrix, names):
        for e in evalsets:
            for metric in COMPARED_METRICS:
                comparisons.append(
                    paired_comparison(
                        stats.get((a, e)),
                        stats.get((b, e)),
                        (a, b),
                        e,
                        metric,
                        resamples=resamples,
                        seed=seed,
                    )
                )
    gates_evalset = GATES_EVALSET if GATES_EVALSET in evalsets else (evalsets[0] if evalsets else None)
    gates: dict[str, dict] = {}
    if gates_evalset is not None:
        gate = gate_report()
        for r in runs:
            st = stats[(r.name, gates_evalset)]
            if st.ids:
                gates[r.name] = run_gates(r.name, st, models[r.name], gate)
    return Report(
        out, matrix, evalsets, runs, baselines, stats, models, comparisons, gates, gates_evalset,
        bottleneck_sweeps(runs, models), resamples, seed,
    )  # fmt: skip


CSV_RUN_FIELDS = (
    "kind", "name", "evalset", "question", "overrides",
    *(f"seeds_{k}" for k in STATUSES), "seeds_evaluated", "n_rows",
)  # fmt: skip
CSV_TAIL_FIELDS = (
    "params_total", "params_ternary", "packed_bytes", "packed_ternary_bytes", "packed_other_bytes",
    "wall_train_s", "wall_generate_s", "wall_evaluate_s", "wall_total_s",
    "cpu_train_s", "cpu_generate_s", "cpu_evaluate_s", "cpu_total_s", "d_bottleneck",
    "early_exit_steps", "latency_p95_ms",
)  # fmt: skip


def _csv_fields() -> list[str]:
    metric_fields = [
        f"{k}_{part}" for k in METRIC_KEYS for part in ("mean", "std", "pooled", "ci_low", "ci_high")
    ]
    return [*CSV_RUN_FIELDS, *metric_fields, *CSV_TAIL_FIELDS]


def results_rows(report: Report) -> list[dict]:
    rows: list[dict] = []
    for e in report.evalsets:
        for run in report.runs:
            st, model = report.stats[(run.name, e)], report.models[run.name]
            counts = run.status_counts()
            row: dict[str, Any] = {
                "kind": "run",
                "name": run.name,
                "evalset": e,
                "question": run.question,
                "overrides": json.dumps(run.overrides, sort_keys=True),
                **{f"seeds_{k}": counts[k] for k in STATUSES},
                "seeds_evaluated": st.seeds_evaluated,
                "n_rows": st.n_rows,
            }
            for k in METRIC_KEYS:
                pooled = st.pooled.get(k) or {}
                row[f"{k}_mean"] = st.mean.get(k)
                row[f"{k}_std"] = st.std.get(k)
                row[f"{k}_pooled"] = pooled.get("value")
                row[f"{k}_ci_low"] = pooled.get("ci_low")
                row[f"{k}_ci_high"] = pooled.get("ci_high")
            packed = model.packed or {}
            row.update(
                params_total=model.params_total,
                params_ternary=model.params_ternary,
                packed_bytes=packed.get("total_bytes"),
                packed_ternary_bytes=packed.get("ternary_bytes"),
                packed_other_bytes=packed.get("other_bytes"),
                wall_train_s=model.wall.get("train"),
                wall_generate_s=model.wall.get("generate"),
                wall_evaluate_s=model.wall.get("evaluate"),
                wall_total_s=model.wall.get("total"),
                cpu_train_s=model.wall.get("cpu_train"),
                cpu_generate_s=model.wall.get("cpu_generate"),
                cpu_evaluate_s=model.wall.get("cpu_evaluate"),
                cpu_total_s=model.wall.get("cpu_total"),
                d_bottleneck=model.d_bottleneck,
                early_exit_steps=" ".join(str(s.early_exit.get("step")) for s in run.seeds if s.early_exit),
                latency_p95_ms=st.latency.get("p95_ms"),
            )
            rows.append(row)
        for name, entry in report.baselines.get(e, []):
            row = {"kind": "baseline", "name": name, "evalset": e, "n_rows": entry.get("n")}
            for k in METRIC_KEYS:
                ci = (entry.get("ci") or {}).get(k) or [None, None]
                row[f"{k}_pooled"] = (entry.get("metrics") or {}).get(k)
                row[f"{k}_ci_low"], row[f"{k}_ci_high"] = ci[0], ci[1]
            row["latency_p95_ms"] = (entry.get("latency") or {}).get("p95_ms")
            rows.append(row)
    return rows


def _csv_text(fields: Sequence[str], rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in fields})
    return buffer.getvalue()


COMPARISON_FIELDS = (
    "a", "b", "evalset", "metric", "n", "diff_b_minus_a", "ci_low", "ci_high", "verdict",
    "seed_ci_low", "seed_ci_high", "seed_verdict",
)  # fmt: skip


def comparison_rows(report: Report) -> list[dict]:
    return [
        {
            "a": c.a,
            "b": c.b,
            "evalset": c.evalset,
            "metric": c.metric,
            "n": c.n,
            "diff_b_minus_a": c.diff,
            "ci_low": c.low,
            "ci_high": c.high,
            "verdict": c.verdict,
            "seed_ci_low": c.seed_low,
            "seed_ci_high": c.seed_high,
            "seed_verdict": c.seed_verdict,
        }  # fmt: skip
        for c in report.comparisons
    ]


def render_markdown(report: Report, plots: Sequence[str] = ()) -> str:
    m = report.matrix
    title = m.get("name") or report.out.name
    lines = [f"# Ablation report: {title}", ""]
    if m:
        train_on = ", ".join(f"`{t}`" for t in m.get("train_on") or []) or "(the base config's)"
        lines.append(
            f"Matrix `{m.get('path', 'matrix.json')}`; base config `{m.get('base')}`; budget for every run "
            f"{_overrides_text(m.get('set') or {})}; training data {train_on}; seeds per run: "
            f"{report.runs[0].expected_seeds if report.runs and report.runs[0].expected_seeds else 'as found'}."
        )
    lines += [
        f"Regenerate: `sashimi ablate report {report.out}` (reads only the run folders).",
        "",
        "Cells: mean ± std over the evaluated seeds (sample std; none for one seed) and, in brackets, the 95 % "
        f"bootstrap interval pooled over seeds ({report.resamples} resamples of gold rows, seed {report.seed}; "
        "each row's value is first averaged over the run's seeds, since a row repeats across seeds). "
        "Seeds that exited early are evaluated and counted; failed, unfinished and missing seeds are listed "
        "and never averaged in. Baselines are deterministic: their value and interval from their own summary.",
        "",
        "## Runs",
        "",
        "| run | question | overrides | seeds | params (total / ternary) | packed size "
        "| wall train / generate / evaluate / total (s, seed mean) | CPU s (seed mean) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in report.runs:
        model = report.models[run.name]
        params = (
            f"{model.params_total / 1e6:.2f} M / {(model.params_ternary or 0) / 1e6:.2f} M"
            if model.params_total is not None
            else "—"
        )
        packed = _bytes(model.packed["total_bytes"]) if model.packed else f"— ({model.packed_note})"
        wall = " / ".join(_f(model.wall.get(p), 0) for p in (*WALL_PARTS, "total"))
        lines.append(
            f"| {run.name} | {run.question} | {_overrides_text(run.overrides)} | {_status_text(run.status_counts())} "
            f"| {params} | {packed} | {wall} | {_f(model.wall.get('cpu_total'), 0)} |"
        )
    lines += [
        "",
        f"Packed size: what `sashimi export --float-dtype {FLOAT_DTYPE}` stores for the weights — 2 bits per "
        "ternary weight plus the per-layer scales, every other tensor float16 — computed from "
        "`train/model.safetensors` (`sashimi.model.export.packed_state`); vocabularies and filler excluded. "
        "Times: training wall from the trainer's meta (cumulative over resumes), generate / evaluate from "
        "result.json, total = their sum; CPU = user + system seconds of the job's commands in the invocation "
        "that finished it (on a shared machine the CPU figure is the one that says what a job costs).",
        "",
    ]
    for e in report.evalsets:
        for title_part, keys in (("validity", VALIDITY_SHOWN), ("fidelity", FIDELITY_SHOWN)):
            lines += [f"## {e}: {title_part}", ""]
            lines.append("| system | seeds | rows | " + " | ".join(LABELS[k] for k in keys) + " |")
            lines.append("|---|---|---|" + "---|" * len(keys))
            for run in report.runs:
                st = report.stats[(run.name, e)]
                seeds = f"{st.seeds_evaluated} eval. ({_status_text(run.status_counts())})"
                lines.append(
                    f"| {run.name} | {seeds} | {st.n_rows} | " + " | ".join(_cell(st, k) for k in keys) + " |"
                )
            for name, entry in report.baselines.get(e, []):
                lines.append(
                    f"| *{name}* (baseline) | — | {entry.get('n')} | "
                    + " | ".join(_baseline_cell(entry, k) for k in keys)
                    + " |"
                )
            lines.append("")
        if e not in report.baselines:
            lines += [f"(No baselines under `baselines/{e}/`.)", ""]
    lines += [
        "## Paired comparisons",
        "",
        "b − a per gold row (each row averaged over its run's seeds first; rows both runs scored), 95 % "
        "bootstrap interval over rows; the verdict says how b does relative to a: better / worse when the "
        "interval excludes 0, else no measurable difference. The last two columns redo it with each run's "
        "seeds resampled as well (two-level bootstrap): the row interval says whether these trained models "
        "differ on these prompts, the seed-aware one whether the configurations do, given how much a "
        "training seed alone moves the figure (with 2–3 seeds it is wide; where the two verdicts disagree, "
        "the difference rests on the seeds drawn).",
        "",
        "| a | b | question of b | eval set | metric | b − a [95 % CI over rows] | rows | verdict "
        "| CI with seeds resampled | seed-aware verdict |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    questions = {r.name: r.question for r in report.runs}
    for c in report.comparisons:
        span = (
            f"{c.diff:+.3f} [{c.low:+.3f}, {c.high:+.3f}]"
            if c.diff is not None and c.low is not None
            else "—"
        )
        seed_span = f"[{c.seed_low:+.3f}, {c.seed_high:+.3f}]" if c.seed_low is not None else "—"
        lines.append(
            f"| {c.a} | {c.b} | {questions.get(c.b, '')} | {c.evalset} | {LABELS.get(c.metric, c.metric)} "
            f"| {span} | {c.n} | {c.verdict} | {seed_span} | {c.seed_verdict} |"
        )
    if not report.comparisons:
        lines.append("| (no comparison: the matrix names no pair of its runs) | | | | | | | | | |")
    lines += _gates_section(report)
    lines += _early_exit_section(report)
    lines += _failure_section(report)
    if plots:
        lines += ["## Plots", ""]
        for p in plots:
            lines += [f"![{Path(p).stem}]({p})", ""]
    return "\n".join(lines) + "\n"


def _gates_section(report: Report) -> list[str]:
    lines = ["", f"## Promotion gates (plan 5.3) on {report.gates_evalset}", ""]
    if not report.gates:
        return lines + ["No run has an evaluated seed on this set.", ""]
    first = next(iter(report.gates.values()))
    labels = [f"{g['label']} {g['op']} {_gate_value(g['key'], g['threshold'])}" for g in first["gates"]]
    lines.append("| run | " + " | ".join(labels) + " | all pass | action F1 | skeleton exact |")
    lines.append("|---|" + "---|" * (len(labels) + 3))
    for run in report.runs:
        result = report.gates.get(run.name)
        if result is None:
            lines.append(
                f"| {run.name} | " + " | ".join("no evaluated seed" for _ in labels) + " | no | — | — |"
            )
            continue
        cells = [
            f"{_gate_value(g['key'], g['value'])} {'pass' if g['status'] == 'pass' else ('**FAIL**' if g['status'] == 'FAIL' else 'not measured')}"
            for g in result["gates"]
        ]
        fid = result["fidelity"]
        lines.append(
            f"| {run.name} | " + " | ".join(cells) + f" | {'**yes**' if result['passed'] else 'no'} | "
            f"{_f(fid['action_f1']['value'])} | {_f(fid['skeleton_exact']['value'])} |"
        )
    lines += [
        "",
        "Figures: the run's rows pooled over its evaluated seeds (`sashimi.eval.gates.check_gates`); latency p95 "
        "from the predictions' `ms` of all those seeds; parameters from the training meta; separability is the "
        "mean over seeds of the final teacher-forced dev separability (`train/meta.json`); the OOD false-accept "
        "rate is the shipped domain gate's held-out figure (`sashimi/model/assets/gate/gate.json`), the same "
        "gate in front of every configuration. A gate without a measurement fails.",
        "",
    ]
    return lines


def _early_exit_section(report: Report) -> list[str]:
    rule = report.matrix.get("early_exit")
    lines = ["## Early exits", ""]
    if isinstance(rule, dict):
        lines.append(
            f"Rule (plan 4.1, from the matrix): at step {rule.get('step')}, a run whose dev Tier 1 token accuracy "
            f"is below {rule.get('min_tier1_acc')} stops."
        )
    else:
        lines.append("The matrix sets no early-exit rule.")
    exits = [(r, s) for r in report.runs for s in r.seeds if s.early_exit or s.status == "early_exit"]
    lines.append("")
    if not exits:
        return lines + ["No seed exited early.", ""]
    lines += ["| run | seed | step | dev Tier 1 token accuracy | threshold |", "|---|---|---|---|---|"]
    for run, s in exits:
        ee = s.early_exit or {}
        lines.append(
            f"| {run.name} | {s.seed} | {ee.get('step', '—')} | {_f(ee.get('tier1_token_acc'))} | {ee.get('threshold', '—')} |"
        )
    return lines + [""]


def _failure_section(report: Report) -> list[str]:
    lines = ["## Failed, unfinished and missing seeds", ""]
    bad = [(r, s) for r in report.runs for s in r.seeds if s.status in ("failed", "incomplete")]
    missing = [(r, r.status_counts()["missing"]) for r in report.runs if r.status_counts()["missing"]]
    unevaluated = [
        (r, s, e)
        for r in report.runs
        for s in r.seeds
        for e in report.evalsets
        if s.status in EVALUATED and e not in s.rows
    ]
    if not bad and not missing and not unevaluated:
        return lines + ["None: every seed of every run finished and was evaluated.", ""]
    for run, s in bad:
        lines.append(f"- {run.name} seed {s.seed}: **{s.status}** — {s.error or 'no error message'}")
    for run, s, e in unevaluated:
        lines.append(
            f"- {run.name} seed {s.seed}: **{s.status} but no evaluation on {e}** (no eval/{e}/rows.jsonl)"
        )
    for run, n in missing:
        lines.append(f"- {run.name}: **{n} seed(s) missing** (no folder)")
    return lines + [""]


def write_report(
    out_dir: Path, *, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED, plots: bool = True
) -> Path:
    """Write OUT/report.md, OUT/results.csv, OUT/comparisons.csv and OUT/plots/*.png; return report.md."""
    report = build_report(out_dir, resamples=resamples, seed=seed)
    out = report.out
    written: list[str] = []
    if plots:
        from sashimi.eval.ablate.plots import write_plots

        written = [str(p.relative_to(out)) for p in write_plots(report)]
    atomic_write_text(out / "results.csv", _csv_text(_csv_fields(), results_rows(report)))
    atomic_write_text(out / "comparisons.csv", _csv_text(COMPARISON_FIELDS, comparison_rows(report)))
    return atomic_write_text(out / "report.md", render_markdown(report, written))
