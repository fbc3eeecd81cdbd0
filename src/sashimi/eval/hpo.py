"""Hyper-parameter optimisation (plan 5.1): `sashimi hpo`, an Optuna study over training recipes.

    sashimi hpo --config configs/real.yaml --data TRAIN.jsonl --dev DEV.jsonl --trials N --out runs/hpo

Each trial samples a recipe from the search space (`configs/hpo/space.yaml`: learning rate, training
steps, batch size, ternarisation schedule), trains it with `sashimi.train.trainer.train` into
`OUT/trials/<number>/` (an ordinary `sashimi train` run folder) and scores it on the dev split only:

    action_f1        (default) the run folder generates every DEV prompt through the whole inference path
                     of `sashimi generate` (gate, constrained decoding, value filler, toolchain) and
                     `sashimi evaluate`'s harness scores the predictions: mean action F1 over DEV rows
    tier12_seq_acc   the trainer's teacher-forced Tier 1+2 sequence accuracy on DEV (no decoding: seconds
                     instead of ~1 minute a trial, but it is not what a user gets)

Pruning: the trainer evaluates on its own dev carve (drawn from the TRAIN rows, never DEV) every
`train.eval_every` steps; that figure is reported to Optuna's MedianPruner, which stops a trial whose
best figure so far is below the median of earlier trials at the same step. The early-stopping question
(how many steps) is answered twice: `train.steps` is searched, and each trial's model is the trainer's
best evaluation (`train.select: best`), recorded as `selected_step`.

Resuming: the study lives in SQLite (`--storage`), opened with `load_if_exists`. Finished trials are
kept; `--trials N` is the number of finished trials the study should have, so rerunning the same
command after a kill finishes the study and a larger N adds trials. A trial left RUNNING by a killed
process is marked FAIL (user attribute `killed`) and enqueued again with the same parameters; the retry
takes over its folder (renamed to the retry's number) and continues from the checkpoint with the
trainer's exact `--resume`. One process per study at a time (a lock file in OUT).

Determinism: before each trial the TPE sampler is re-seeded from (`--seed`, trial number), so the
parameters of trial n depend only on the seed and the trials before it, not on how many processes the
study took; training is deterministic given its config (the trainer's contract).
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
import yaml
from optuna.trial import TrialState

from sashimi.dsl.catalog import Catalog
from sashimi.errors import DataError, Location, SashimiError
from sashimi.eval.harness import Scorer, evaluate, prepare_gold
from sashimi.eval.predictions import read_gold
from sashimi.eval.report import build_summary, write_outputs
from sashimi.io import (
    atomic_write_bytes,
    file_sha256,
    git_commit,
    progress,
    read_json,
    write_json,
    write_jsonl,
)
from sashimi.model.checkpoint import META_FILE, load_run
from sashimi.model.encoder import Encoder
from sashimi.model.fast_lexical import fast_gate
from sashimi.model.gate import load_gate
from sashimi.model.generator import Generator, prediction_record
from sashimi.model.minilm import MiniLM
from sashimi.train.config import load_config
from sashimi.train.trainer import CKPT_DIR, METRICS_FILE, TrainingError, train

OBJECTIVES = ("action_f1", "tier12_seq_acc")
PRUNE_FIGURES = ("tier12_seq_acc", "tier1_seq_acc", "token_acc", "tier1_token_acc")
TERNARY_FRACTION = "train.ternary_warmup_fraction"  # derived: sets train.ternary_warmup_steps
TRIAL_FILE = "trial.json"  # written last in a trial folder: the trial's done marker and record
LOCK_FILE = "hpo.lock"

# configs/hpo/space.yaml without its comments (tests/eval/test_hpo.py checks that they agree)
DEFAULT_SPACE: dict[str, dict] = {
    "train.lr": {"type": "float", "low": 3.0e-4, "high": 1.0e-2, "log": True},
    "train.steps": {"type": "int", "low": 200, "high": 1000, "step": 200},
    "train.batch_size": {"type": "categorical", "choices": [16, 32, 64]},
    TERNARY_FRACTION: {"type": "float", "low": 0.0, "high": 0.5},
}


# ----------------------------------------------------------------------------------------------- space


@dataclass(frozen=True)
class Param:
    key: str
    kind: str  # float | int | categorical
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple = ()

    def to_json(self) -> dict:
        if self.kind == "categorical":
            return {"type": "categorical", "choices": list(self.choices)}
        out: dict[str, Any] = {"type": self.kind, "low": self.low, "high": self.high, "log": self.log}
        if self.step is not None:
            out["step"] = self.step
        return out


_SPEC_KEYS = {
    "float": {"type", "low", "high", "log", "step"},
    "int": {"type", "low", "high", "log", "step"},
    "categorical": {"type", "choices"},
}


def parse_space(raw: Any, where: str = "<space>") -> list[Param]:
    """A search space from its YAML mapping {key: spec}; a bad spec is a one-line DataError."""
    if not isinstance(raw, dict) or not raw:
        raise DataError("a search space is a non-empty mapping {key: {type: ..., ...}}", Location(where))
    space = []
    for key, spec in raw.items():
        loc = Location(where)
        if not isinstance(spec, dict) or spec.get("type") not in _SPEC_KEYS:
            raise DataError(f"{key}: give {{type: float | int | categorical, ...}}", loc)
        kind = spec["type"]
        unknown = set(spec) - _SPEC_KEYS[kind]
        if unknown:
            raise DataError(f"{key}: unknown field(s) {sorted(unknown)} for type {kind}", loc)
        if kind == "categorical":
            choices = spec.get("choices")
            if not isinstance(choices, list) or not choices:
                raise DataError(f"{key}: categorical needs a non-empty list of choices", loc)
            space.append(Param(str(key), kind, choices=tuple(choices)))
            continue
        try:
            low, high = float(spec["low"]), float(spec["high"])
        except (KeyError, TypeError, ValueError):
            raise DataError(f"{key}: {kind} needs numeric low and high", loc) from None
        log = bool(spec.get("log", False))
        step = spec.get("step")
        if not low <= high:
            raise DataError(f"{key}: low {low} is above high {high}", loc)
        if log and low <= 0:
            raise DataError(f"{key}: a log-uniform range needs low > 0", loc)
        if step is not None and (not isinstance(step, int | float) or step <= 0 or log):
            raise DataError(f"{key}: step must be a positive number (and not combined with log)", loc)
        if kind == "int":
            if low != int(low) or high != int(high) or (step is not None and step != int(step)):
                raise DataError(f"{key}: int ranges take whole numbers", loc)
            low, high = int(low), int(high)
            step = int(step) if step is not None else None
        space.append(Param(str(key), kind, low, high, log, step))
    return space


def load_space(path: str | os.PathLike | None) -> list[Param]:
    """The space in `path` (YAML), or the built-in default."""
    if path is None:
        return parse_space(DEFAULT_SPACE, "<default space>")
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("space file not found", Location(str(p))) from None
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read: {err}", Location(str(p))) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        loc = Location(str(p), mark.line + 1, mark.column + 1) if mark else Location(str(p))
        raise DataError(f"invalid YAML: {getattr(err, 'problem', err)}", loc) from None
    return parse_space(raw, str(p))


def _suggest(trial: optuna.Trial, param: Param) -> Any:
    if param.kind == "categorical":
        return trial.suggest_categorical(param.key, list(param.choices))
    if param.kind == "int":
        return trial.suggest_int(
            param.key, int(param.low), int(param.high), step=int(param.step or 1), log=param.log
        )
    return trial.suggest_float(param.key, float(param.low), float(param.high), step=param.step, log=param.log)


def _set_value(value: Any) -> str:
    return json.dumps(value)  # --set values are read as YAML: JSON scalars read back exactly


def trial_overrides(params: dict[str, Any], steps: int) -> list[str]:
    """`--set` assignments of a trial's parameters (`steps`: the trial's resolved train.steps)."""
    out = []
    for key, value in params.items():
        if key == TERNARY_FRACTION:
            out.append(f"train.ternary_warmup_steps={round(float(value) * steps)}")
        else:
            out.append(f"{key}={_set_value(value)}")
    return out


def resolve_trial_config(
    config_path: str | os.PathLike, sets: Sequence[str], params: dict[str, Any]
) -> tuple[dict, list[str]]:
    """The trial's resolved training config and the overrides that made it (base --set first)."""
    plain = {k: v for k, v in params.items() if k != TERNARY_FRACTION}
    config = load_config(config_path, [*sets, *trial_overrides(plain, 0)])
    overrides = [*sets, *trial_overrides(params, int(config["train"]["steps"]))]
    config = load_config(config_path, overrides)
    if config["data"]["catalog_dir"]:  # as `sashimi train` does: the run must not depend on the cwd
        config["data"]["catalog_dir"] = str(Path(config["data"]["catalog_dir"]).resolve())
    return config, overrides


def sample_params(trial: optuna.Trial, space: list[Param], config_path, sets: Sequence[str]) -> dict:
    """Suggest every active parameter. The ternary schedule is inactive (not sampled) when the
    trial's weight regime is continuous: it would change nothing, and TPE would learn noise from it."""
    params: dict[str, Any] = {}
    for param in space:
        if param.key == TERNARY_FRACTION:
            continue
        params[param.key] = _suggest(trial, param)
    for param in space:
        if param.key == TERNARY_FRACTION:
            config, _ = resolve_trial_config(config_path, sets, params)
            if config["model"]["weight_regime"] != "continuous":
                params[param.key] = _suggest(trial, param)
    return params


# ----------------------------------------------------------------------------------------------- settings


@dataclass
class HpoSettings:
    config: Path
    data: list[Path]
    dev: Path
    trials: int
    out: Path
    study: str = "sashimi"
    storage: str | None = None  # a path (SQLite file) or a sqlite:/// URL; default OUT/study.db
    sets: list[str] = field(default_factory=list)
    timeout: float | None = None  # seconds; no new trial starts after it
    objective: str = "action_f1"
    space: Path | None = None
    seed: int = 0
    startup_trials: int = 5  # TPE: random trials before the model-based ones
    prune: bool = True
    prune_on: str = "tier12_seq_acc"
    prune_startup: int = 2  # MedianPruner: trials that finish before any pruning
    beam: int = 1
    quiet: bool = False


def storage_url(storage: str | None, out: Path) -> str:
    if storage is None:
        return f"sqlite:///{(out / 'study.db').resolve()}"
    if "://" in storage:
        if not storage.startswith("sqlite:///"):
            raise DataError(f"--storage: only SQLite is supported (a path or sqlite:///...), got {storage!r}")
        return storage
    p = Path(storage)
    if p.is_dir():
        raise DataError("--storage is a folder; give a file such as runs/hpo/study.db", Location(storage))
    p.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{p.resolve()}"


def check_settings(s: HpoSettings) -> list[Param]:
    """Every argument checked before anything trains; returns the search space."""
    if s.trials < 1:
        raise DataError("--trials must be at least 1")
    if s.timeout is not None and s.timeout <= 0:
        raise DataError("--timeout must be a positive number of seconds")
    if s.objective not in OBJECTIVES:
        raise DataError(f"--objective must be one of {', '.join(OBJECTIVES)}")
    if s.prune_on not in PRUNE_FIGURES:
        raise DataError(f"--prune-on must be one of {', '.join(PRUNE_FIGURES)}")
    if s.startup_trials < 0 or s.prune_startup < 0:
        raise DataError("--startup-trials and --prune-startup must be >= 0")
    if s.beam < 1:
        raise DataError("--beam must be at least 1")
    if not s.data:
        raise DataError("give --data TRAIN.jsonl (one or more training files)")
    for path in [*s.data, s.dev]:
        if not Path(path).is_file():
            raise DataError("file not found", Location(str(path)))
    dev_sha = file_sha256(s.dev)
    for path in s.data:
        if file_sha256(path) == dev_sha:
            raise DataError(
                "the --dev file is also a --data file: the objective must be held out", Location(str(path))
            )
    if s.out.exists() and not s.out.is_dir():
        raise DataError("--out exists and is not a folder", Location(str(s.out)))
    space = load_space(s.space)
    # every key must be a config key (a typo must not pass): resolve the config at the range's low end
    probe = {p.key: (p.choices[0] if p.kind == "categorical" else p.low) for p in space}
    resolve_trial_config(s.config, s.sets, probe)
    return space


# ----------------------------------------------------------------------------------------------- lock


class _Lock:
    """OUT/hpo.lock holding our pid: a second `sashimi hpo` on the same OUT refuses to start; a lock
    left by a killed process (pid gone) is taken over."""

    def __init__(self, out: Path) -> None:
        self.path = out / LOCK_FILE

    def __enter__(self) -> _Lock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    pid = int(self.path.read_text().strip() or 0)
                except (OSError, ValueError):
                    pid = 0
                if pid and pid != os.getpid() and _alive(pid):
                    raise DataError(
                        f"another sashimi hpo (pid {pid}) is running on this folder", Location(str(self.path))
                    ) from None
                self.path.unlink(missing_ok=True)  # stale: its process is gone
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(str(os.getpid()))
            return self
        raise DataError("cannot take the lock", Location(str(self.path)))

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ----------------------------------------------------------------------------------------------- the study


@dataclass
class _Context:
    settings: HpoSettings
    space: list[Param]
    log: Callable[[str], None]
    encoder: Encoder | None = None  # training encoder (with the on-disk cache), shared by the trials
    minilm: MiniLM | None = None  # generation encoder, shared
    gate: Any = None
    gold: list | None = None
    scorer: Scorer | None = None


def _study_fingerprint(s: HpoSettings, space: list[Param]) -> dict:
    """What must not change between runs of one study: otherwise its trials measure different things."""
    base = load_config(s.config, s.sets)
    if base["data"]["catalog_dir"]:
        base["data"]["catalog_dir"] = str(Path(base["data"]["catalog_dir"]).resolve())
    return json.loads(
        json.dumps(
            {
                "base_config": base,
                "data_sha256": [file_sha256(p) for p in s.data],
                "dev_sha256": file_sha256(s.dev),
                "objective": s.objective,
                "prune_on": s.prune_on,
                "space": {p.key: p.to_json() for p in space},
            }
        )
    )


def _open_study(s: HpoSettings, space: list[Param], url: str, log) -> optuna.Study:
    pruner: optuna.pruners.BasePruner = (
        optuna.pruners.MedianPruner(n_startup_trials=s.prune_startup, n_warmup_steps=0)
        if s.prune
        else optuna.pruners.NopPruner()
    )
    storage = optuna.storages.RDBStorage(url)
    study = optuna.create_study(
        study_name=s.study,
        storage=storage,
        direction="maximize",
        pruner=pruner,
        sampler=_sampler(s, 0),
        load_if_exists=True,
    )
    fingerprint = _study_fingerprint(s, space)
    stored = study.user_attrs.get("fingerprint")
    if stored is None:
        study.set_user_attr("fingerprint", fingerprint)
    elif stored != fingerprint:
        differ = [k for k in fingerprint if stored.get(k) != fingerprint[k]]
        raise DataError(
            f"study {s.study!r} was run with another {', '.join(differ)}; use another --study or --storage",
            Location(url.removeprefix("sqlite:///")),
        )
    _retry_killed(study, storage, log)
    return study


def _sampler(s: HpoSettings, number: int) -> optuna.samplers.TPESampler:
    return optuna.samplers.TPESampler(seed=s.seed * 1_000_003 + number, n_startup_trials=s.startup_trials)


def _retry_killed(study: optuna.Study, storage: optuna.storages.BaseStorage, log) -> None:
    """Trials left RUNNING by a killed process: FAIL (marked `killed`) and enqueued again, same params."""
    study_id = storage.get_study_id_from_name(study.study_name)
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, t.number)
        storage.set_trial_user_attr(trial_id, "killed", True)
        storage.set_trial_state_values(trial_id, TrialState.FAIL)
        study.enqueue_trial(t.params, user_attrs={"retry_of": t.number}, skip_if_exists=False)
        log(f"trial {t.number} was left running by a killed process: failed, and enqueued again")


def finished_count(study: optuna.Study) -> int:
    """Trials that count towards --trials: complete, pruned, or failed for a reason of their own
    (a killed trial does not count: its retry does; nor does one aborted by an input error)."""
    n = 0
    for t in study.get_trials(deepcopy=False):
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED) or (
            t.state == TrialState.FAIL and not t.user_attrs.get("killed") and not t.user_attrs.get("aborted")
        ):
            n += 1
    return n


def run_hpo(s: HpoSettings, *, log: Callable[[str], None] | None = None) -> dict:
    """Run (or resume) the study to `s.trials` finished trials; write OUT/hpo.json and OUT/hpo.png."""
    started = time.time()
    log = log or ((lambda msg: None) if s.quiet else (lambda msg: print(msg, file=sys.stderr)))
    space = check_settings(s)
    url = storage_url(s.storage, s.out)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    s.out.mkdir(parents=True, exist_ok=True)
    with _Lock(s.out):
        study = _open_study(s, space, url, log)
        ctx = _Context(s, space, log)
        done = finished_count(study)
        if done >= s.trials:
            log(f"study {s.study!r} already has {done} finished trials (--trials {s.trials}): nothing to run")
        while done < s.trials:
            if s.timeout is not None and time.time() - started > s.timeout:
                log(f"--timeout {s.timeout:g}s reached: no new trial started ({done} of {s.trials} finished)")
                break
            study.sampler = _sampler(s, len(study.get_trials(deepcopy=False)))
            trial = study.ask()
            _run_trial(study, trial, ctx)
            done = finished_count(study)
            if done < s.trials:  # the report after every trial: a study killed later still has one
                write_report(study, s, space, url, wall_seconds=time.time() - started)
        result = write_report(study, s, space, url, wall_seconds=time.time() - started)
    return result


# ----------------------------------------------------------------------------------------------- one trial


def _run_trial(study: optuna.Study, trial: optuna.Trial, ctx: _Context) -> None:
    s, log = ctx.settings, ctx.log
    t0 = time.time()
    params = sample_params(trial, ctx.space, s.config, s.sets)
    config, overrides = resolve_trial_config(s.config, s.sets, params)
    run_dir = s.out / "trials" / str(trial.number)
    retry_of = trial.user_attrs.get("retry_of")
    if retry_of is not None:
        old = s.out / "trials" / str(retry_of)
        if old.is_dir() and not run_dir.exists():
            old.rename(run_dir)  # the retry continues the killed trial's run folder
    shown = ", ".join(f"{k.split('.')[-1]}={_fmt(v)}" for k, v in params.items())
    log(f"trial {trial.number}: {shown}" + (f" (retry of trial {retry_of})" if retry_of is not None else ""))
    trial.set_user_attr("overrides", overrides)
    trial.set_user_attr("run_dir", str(run_dir))
    record: dict[str, Any] = {
        "number": trial.number,
        "params": params,
        "overrides": overrides,
        "objective": s.objective,
        "retry_of": retry_of,
        "git_commit": git_commit(Path(__file__).parent),
    }
    walls: dict[str, float] = {}
    try:
        t = time.time()
        meta = _train_trial(trial, ctx, config, run_dir)
        walls["train"] = round(time.time() - t, 3)
        value, metrics = _objective(ctx, config, run_dir, meta, walls)
    except optuna.TrialPruned as pruned:
        walls["total"] = round(time.time() - t0, 3)
        record.update(state="PRUNED", value=None, pruned=str(pruned), wall_seconds=walls)
        trial.set_user_attr("wall_seconds", walls)
        write_json(run_dir / TRIAL_FILE, record)
        study.tell(trial, state=TrialState.PRUNED)
        log(f"trial {trial.number}: {pruned}")
        return
    except SashimiError as err:
        # TrainingError: this recipe cannot train (non-finite loss): a failed trial, the study goes on.
        # Anything else is a problem of the inputs that every trial would hit: the trial is failed as
        # `aborted` (not counted towards --trials) and the command stops with the error.
        aborted = not isinstance(err, TrainingError)
        walls["total"] = round(time.time() - t0, 3)
        record.update(state="FAIL", value=None, error=str(err), aborted=aborted, wall_seconds=walls)
        trial.set_user_attr("error", str(err))
        trial.set_user_attr("aborted", aborted)
        trial.set_user_attr("wall_seconds", walls)
        if run_dir.is_dir():
            write_json(run_dir / TRIAL_FILE, record)
        study.tell(trial, state=TrialState.FAIL)
        if aborted:
            raise
        log(f"trial {trial.number}: failed: {err}")
        return
    walls["total"] = round(time.time() - t0, 3)
    trial.set_user_attr("metrics", metrics)
    trial.set_user_attr("selected_step", meta.get("selected_step"))
    trial.set_user_attr("wall_seconds", walls)
    record.update(
        state="COMPLETE",
        value=value,
        metrics=metrics,
        selected_step=meta.get("selected_step"),
        steps_done=meta.get("steps_done"),
        wall_seconds=walls,
    )
    write_json(run_dir / TRIAL_FILE, record)
    study.tell(trial, value)
    log(
        f"trial {trial.number}: {s.objective} {value:.4f} (selected step {meta.get('selected_step')}; "
        f"{walls['total']:.0f}s)"
    )


def _fmt(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def _train_trial(trial: optuna.Trial, ctx: _Context, config: dict, run_dir: Path) -> dict:
    """Train the trial's run folder (or continue it), reporting the trainer's dev figures for pruning."""
    s = ctx.settings
    meta_path, resolved = run_dir / META_FILE, run_dir / "config.resolved.json"
    same_config = resolved.is_file() and read_json(resolved) == json.loads(json.dumps(config))
    if meta_path.is_file() and same_config:
        return read_json(meta_path)  # trained before the kill; only the objective is left
    resume = (run_dir / CKPT_DIR / "state.json").is_file()
    if resume and not same_config:
        raise DataError("trial folder holds another recipe's checkpoint", Location(str(run_dir)))
    if resume:  # the pruner sees the figures of the steps done before the kill again
        step = int(read_json(run_dir / CKPT_DIR / "state.json")["step"])
        for rec in _dev_records(run_dir):
            if rec["step"] <= step:
                trial.report(float(rec["dev"][s.prune_on]), rec["step"])
    elif run_dir.exists():
        shutil.rmtree(run_dir)  # a folder without a checkpoint holds nothing worth keeping

    def on_eval(step: int, metrics: dict) -> None:
        trial.report(float(metrics[s.prune_on]), step)
        if trial.should_prune():
            raise optuna.TrialPruned(f"pruned at step {step} (dev {s.prune_on} {metrics[s.prune_on]:.4f})")

    if ctx.encoder is None:
        ctx.encoder = Encoder(progress=False)
    return train(
        config,
        run_dir,
        [str(p) for p in s.data],
        eval_paths=[str(s.dev)],
        resume=resume,
        quiet=True,
        encoder=ctx.encoder,
        on_eval=on_eval,
    )


def _dev_records(run_dir: Path) -> list[dict]:
    path = run_dir / METRICS_FILE
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [r for r in (json.loads(x) for x in lines if x.strip()) if "dev" in r]


def _objective(ctx: _Context, config: dict, run_dir: Path, meta: dict, walls: dict) -> tuple[float, dict]:
    """The trial's value on DEV, and the figures recorded beside it."""
    s = ctx.settings
    # the trainer scored DEV teacher-forced as its only --eval file: the one key besides its own "dev"
    teacher = next((v for k, v in meta["metrics"].items() if k != "dev"), {})
    metrics: dict[str, Any] = {"dev_tier12_seq_acc": teacher.get("tier12_seq_acc")}
    metrics["dev_tier1_seq_acc"] = teacher.get("tier1_seq_acc")
    if s.objective == "tier12_seq_acc":
        return float(teacher["tier12_seq_acc"]), metrics
    t = time.time()
    if ctx.minilm is None:
        ctx.gate = fast_gate(load_gate())  # converted once, not per trial
        ctx.minilm = MiniLM(tap=ctx.gate.tap_layer)
        catalog = Catalog.load(config["data"]["catalog_dir"])
        ctx.gold = prepare_gold(read_gold(s.dev), catalog, file=str(s.dev))
        ctx.scorer = Scorer(catalog)
    generator = Generator(load_run(run_dir), encoder=ctx.minilm, gate=ctx.gate, model_dir=run_dir)
    rows = [(g.row.id, g.row.prompt) for g in ctx.gold]
    preds = [
        prediction_record(rid, prompt, generator.generate(prompt, beam=s.beam))
        for rid, prompt in progress(rows, desc=f"generate {run_dir.name}", enabled=False if s.quiet else None)
    ]
    write_jsonl(run_dir / "preds_dev.jsonl", preds)
    walls["generate"] = round(time.time() - t, 3)
    t = time.time()
    report = evaluate(preds, ctx.gold, scorer=ctx.scorer, name=f"trial{run_dir.name}", aligned=True)
    summary = build_summary(
        [report],
        {"data": str(s.dev), "predictions": str(run_dir / "preds_dev.jsonl"), "seed": 0, "resamples": 1000},
    )
    write_outputs(run_dir / "eval", summary, [report])
    walls["evaluate"] = round(time.time() - t, 3)
    m = report["metrics"]
    metrics.update(
        {k: m.get(k) for k in ("action_f1", "compile_strict_rate", "skeleton_exact", "exact", "accept_rate")}
    )
    metrics["action_f1_ci"] = report["ci"]["action_f1"]
    return float(m["action_f1"]), metrics


# ----------------------------------------------------------------------------------------------- report


def _trial_json(t: optuna.trial.FrozenTrial) -> dict:
    return {
        "number": t.number,
        "state": t.state.name,
        "value": t.value,
        "params": t.params,
        "intermediate": {str(k): v for k, v in sorted(t.intermediate_values.items())},
        "started": t.datetime_start.isoformat() if t.datetime_start else None,
        "completed": t.datetime_complete.isoformat() if t.datetime_complete else None,
        **{k: v for k, v in t.user_attrs.items()},
    }


def importances(study: optuna.Study, seed: int) -> tuple[dict | None, str | None]:
    """fANOVA parameter importances over the complete trials, or None with the reason."""
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    if len(complete) < 2:
        return None, f"needs >= 2 complete trials (has {len(complete)})"
    try:
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
        return dict(optuna.importance.get_param_importances(study, evaluator=evaluator)), None
    except (ValueError, RuntimeError) as err:
        return None, str(err).splitlines()[0]


def write_report(
    study: optuna.Study, s: HpoSettings, space: list[Param], url: str, *, wall_seconds: float
) -> dict:
    trials = study.get_trials(deepcopy=False)
    counts = {state.name: sum(t.state == state for t in trials) for state in TrialState}
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    best = max(complete, key=lambda t: (t.value, -t.number)) if complete else None
    imp, imp_note = importances(study, s.seed)
    result = {
        "study": s.study,
        "storage": url,
        "direction": "maximize",
        "objective": {
            "name": s.objective,
            "on": str(s.dev),
            "what": "mean action F1 of `sashimi generate` predictions scored by `sashimi evaluate`"
            if s.objective == "action_f1"
            else "teacher-forced Tier 1+2 sequence accuracy (the trainer's figure) on the dev file",
        },
        "base": {
            "config": str(s.config),
            "set": s.sets,
            "data": [{"path": str(p), "sha256": file_sha256(p)} for p in s.data],
            "dev": {"path": str(s.dev), "sha256": file_sha256(s.dev)},
        },
        "space": {p.key: p.to_json() for p in space},
        "sampler": {"kind": "TPE", "seed": s.seed, "n_startup_trials": s.startup_trials},
        "pruner": {
            "kind": "median",
            "n_startup_trials": s.prune_startup,
            "on": f"trainer dev carve {s.prune_on}",
        }
        if s.prune
        else {"kind": "none"},
        "target_trials": s.trials,
        "counts": {k: v for k, v in counts.items() if v},
        "best": None
        if best is None
        else {
            "number": best.number,
            "value": best.value,
            "params": best.params,
            **{k: best.user_attrs.get(k) for k in ("overrides", "selected_step", "metrics", "run_dir")},
        },
        "importance": imp,
        "importance_note": imp_note,
        "trials": [_trial_json(t) for t in trials],
        "git_commit": git_commit(Path(__file__).parent),
        "wall_seconds": round(wall_seconds, 3),
    }
    write_json(s.out / "hpo.json", result)
    plot_study(result, s.out / "hpo.png")
    return result


def plot_study(result: dict, path: Path) -> Path:
    """Value per trial (with the running best), parameter importances, and one slice plot per parameter."""
    import matplotlib  # imported here: only the report pays matplotlib's import time

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator, NullFormatter

    trials = result["trials"]
    keys = list(result["space"])
    ncols = max(2, len(keys))
    fig, axes = plt.subplots(2, ncols, figsize=(3.6 * ncols, 6.4), squeeze=False)
    name = result["objective"]["name"]
    ax = axes[0][0]
    done = [t for t in trials if t["state"] == "COMPLETE"]
    ax.plot([t["number"] for t in done], [t["value"] for t in done], "o", label="complete")
    pruned = [t for t in trials if t["state"] == "PRUNED"]
    if pruned:
        ax.plot(
            [t["number"] for t in pruned],
            [0.0] * len(pruned),
            "x",
            color="grey",
            label="pruned (no dev value)",
        )
    failed = [t for t in trials if t["state"] == "FAIL"]
    if failed:
        ax.plot([t["number"] for t in failed], [0.0] * len(failed), "v", color="red", label="failed / killed")
    if done:
        best, xs, ys = -math.inf, [], []
        for t in sorted(done, key=lambda t: t["number"]):
            best = max(best, t["value"])
            xs.append(t["number"])
            ys.append(best)
        ax.step(xs, ys, where="post", color="black", lw=1, label="best so far")
    ax.set_xlabel("trial")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(f"dev {name}")
    ax.set_title(f"{result['study']}: dev {name} per trial", fontsize=9)
    ax.legend(fontsize=7)
    ax = axes[0][1]
    if result["importance"]:
        items = sorted(result["importance"].items(), key=lambda kv: kv[1])
        ax.barh([k.split(".")[-1] for k, _ in items], [v for _, v in items])
        ax.set_title("parameter importance (fANOVA)", fontsize=9)
    else:
        ax.text(
            0.5,
            0.5,
            f"importance: {result['importance_note']}",
            ha="center",
            va="center",
            wrap=True,
            fontsize=8,
        )
        ax.set_axis_off()
    for extra in axes[0][2:]:
        extra.set_axis_off()
    for i, key in enumerate(keys):
        ax = axes[1][i]
        pts = [(t["params"][key], t["value"], t["number"]) for t in done if key in t["params"]]
        if pts:
            xs = [p[0] for p in pts]
            numeric = all(isinstance(x, int | float) for x in xs)
            sc = ax.scatter(
                xs if numeric else [str(x) for x in xs],
                [p[1] for p in pts],
                c=[p[2] for p in pts],
                cmap="viridis",
            )
            if result["space"][key].get("log"):
                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels of a narrow range overlap
                ax.tick_params(axis="x", labelrotation=30)
            if i == len(keys) - 1:
                fig.colorbar(sc, ax=ax, label="trial")
        ax.set_xlabel(key.split(".", 1)[-1], fontsize=8)
        if i == 0:
            ax.set_ylabel(f"dev {name}")
    for extra in axes[1][len(keys) :]:
        extra.set_axis_off()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())
