"""`sashimi ablate`: train, generate and evaluate every (run, seed) of a matrix, in parallel, resumably.

Each job is three commands of the public CLI run as child processes — `sashimi train`, `sashimi generate
--input/--out` per evaluation set, `sashimi evaluate` — so an ablation run is exactly what a user would get
from those commands, a job's memory is returned when it ends, and the result does not depend on how many
jobs share the machine (every child trains with `train.threads` = 1, the config's default).

Resumable at every level: a job whose `result.json` exists is not redone; a job killed mid-training continues
from its checkpoint (`sashimi train --resume`); predictions and evaluations already written are kept. Jobs run
seed-major (every run at seed 0, then every run at seed 1, ...), so a matrix stopped early still holds whole
seeds. `--backend ray` sends the same jobs to Ray tasks (one CPU each) instead of local worker threads.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sashimi.errors import DataError, SashimiError
from sashimi.eval.ablate.matrix import Matrix
from sashimi.io import git_commit, progress, read_json, write_json

RESULT_FILE = "result.json"
BACKENDS = ("local", "ray")


class JobError(SashimiError):
    """A child command of a job failed (its log says why)."""


@dataclass(frozen=True)
class Job:
    run: str
    seed: int

    @property
    def key(self) -> str:
        return f"{self.run}/seed{self.seed}"


def data_file(out: Path, ref: str) -> Path:
    """'real/dev' -> OUT/data/real/dev.jsonl"""
    source, split = ref.split("/", 1)
    return out / "data" / source / f"{split}.jsonl"


def job_dir(out: Path, job: Job) -> Path:
    return out / "runs" / job.run / f"seed{job.seed}"


def jobs_of(matrix: Matrix, seeds: int) -> list[Job]:
    """Seed-major order: a matrix stopped early still holds complete seeds."""
    return [Job(run.name, seed) for seed in range(seeds) for run in matrix.runs]


# ---- child processes --------------------------------------------------------------------------------

_children: set[subprocess.Popen] = set()
_children_lock = threading.Lock()


def _sashimi(args: list[str], log: Path, cpu: dict[str, float] | None = None) -> None:
    """Run `sashimi ARGS` as a child process, appending its output to LOG; raise JobError on failure.

    CPU seconds (user + system) of the child are added to `cpu[command]` when given."""
    cmd = [sys.executable, "-m", "sashimi", *args]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "SASHIMI_THREADS": "1"}
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"$ sashimi {' '.join(args)}\n")
        fh.flush()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL)
        with _children_lock:
            _children.add(proc)
        try:
            # wait4 rather than wait: it also returns the child's CPU time, which says what the job would
            # take on an idle machine when other work shares the cores (the job's own wall time cannot)
            _, status, usage = os.wait4(proc.pid, 0)
            code = os.waitstatus_to_exitcode(status)
            proc.returncode = code
            if cpu is not None:
                cpu[args[0]] = round(cpu.get(args[0], 0.0) + usage.ru_utime + usage.ru_stime, 1)
        finally:
            with _children_lock:
                _children.discard(proc)
    if code != 0:
        last = _last_line(log)
        raise JobError(f"`sashimi {args[0]}` exited {code}: {last}")


def _last_line(path: Path) -> str:
    try:
        lines = [ln for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def stop_children() -> None:
    """Terminate every running child (on SIGTERM / Ctrl-C): their checkpoints make the next run resume.

    The threads that started the children reap them (wait4); here we only signal and wait for them to go."""
    with _children_lock:
        procs = list(_children)
    for proc in procs:
        if proc.returncode is None:
            proc.terminate()
    deadline = time.time() + 15
    while time.time() < deadline:
        with _children_lock:
            if not _children:
                return
        time.sleep(0.1)
    with _children_lock:
        for proc in _children:
            if proc.returncode is None:
                proc.kill()


# ---- preparing the shared inputs ----------------------------------------------------------------------


def prepare_data(matrix: Matrix, out: Path, log: Callable[[str], None]) -> None:
    """Materialise the matrix's data under OUT/data/ once (deterministic commands; kept on rerun)."""
    for source, recipe in matrix.data.items():
        folder = out / "data" / source
        if (folder / "manifest.json").is_file():
            continue
        if source == "real":
            corpus = Path(str(recipe["corpus"]))
            if not corpus.is_file():
                raise DataError(f"data.real.corpus not found: {corpus}")
            args = ["data", "split", "--data", str(corpus), "--out", str(folder)]
            args += [
                "--seed",
                str(recipe.get("seed", 0)),
                "--dev-fraction",
                str(recipe.get("dev_fraction", 0.1)),
            ]
        else:
            args = ["data", "synth", "--n", str(recipe.get("n", 5000)), "--seed", str(recipe.get("seed", 0))]
            args += ["--out", str(folder)]
        log(f"data: sashimi {' '.join(args)}")
        _sashimi(args, out / "logs" / f"data-{source}.log")


def _catalog_args(matrix: Matrix) -> list[str]:
    return ["--catalog-dir", str(matrix.catalog_dir)] if matrix.catalog_dir else []


def run_baselines(matrix: Matrix, out: Path, log: Callable[[str], None]) -> None:
    """kNN (MiniLM, TF-IDF), most-frequent and empty on every evaluation set, once, for the report's table.

    Each set's kNN index is the training split of its own distribution (`knn_train`): real dev retrieves from
    the real train split, a synthetic test from the synthetic train split."""
    for name, ref in matrix.evals.items():
        folder = out / "baselines" / name
        if (folder / "summary.json").is_file():
            continue
        log(f"baselines on {name}")
        args = ["evaluate", "--baselines", "--train", str(data_file(out, matrix.knn_train[name]))]
        args += ["--data", str(data_file(out, ref)), "--out", str(folder), "--quiet", *_catalog_args(matrix)]
        _sashimi(args, out / "logs" / f"baselines-{name}.log")


def is_finished(result_path: Path) -> bool:
    """A job is finished when its result.json says done or early exit; a failed one is retried."""
    if not result_path.is_file():
        return False
    try:
        return read_json(result_path).get("status") in ("done", "early_exit")
    except (SashimiError, OSError, ValueError):
        return False


# ---- one job -------------------------------------------------------------------------------------------


def train_overrides(matrix_json: dict, run: dict, seed: int) -> list[str]:
    """The `--set` list of a job: the matrix budget, then the run's own settings, then seed and early exit."""
    values: dict[str, Any] = {**matrix_json["set"], **run["set"], "train.seed": seed}
    if matrix_json.get("early_exit"):
        values["train.early_exit"] = matrix_json["early_exit"]
    return [f"{k}={json.dumps(v)}" for k, v in values.items()]


def run_job(out: str, matrix_json: dict, run_name: str, seed: int) -> dict:
    """Train, generate and evaluate one (run, seed); returns (and writes) its result.json.

    Plain arguments only (a path, JSON data, a name, an int) so that a Ray worker can run it as well."""
    out_p = Path(out)
    job = Job(run_name, seed)
    folder = job_dir(out_p, job)
    result_path = folder / RESULT_FILE
    if is_finished(result_path):
        return read_json(result_path)
    run = next(r for r in matrix_json["runs"] if r["name"] == run_name)
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "log.txt"
    walls: dict[str, float] = {}
    cpu: dict[str, float] = {}
    result: dict[str, Any] = {
        "run": run_name,
        "seed": seed,
        "question": run.get("question", ""),
        "overrides": {**matrix_json["set"], **run["set"]},
        "git_commit": git_commit(Path(__file__).parent),
    }
    started = time.time()
    try:
        train_dir = folder / "train"
        if not (train_dir / "meta.json").is_file():
            t0 = time.time()
            args = ["train", "--config", matrix_json["base"], "--out", str(train_dir), "--quiet"]
            if matrix_json["train_on"]:
                args += ["--data", *[str(data_file(out_p, ref)) for ref in matrix_json["train_on"]]]
            if matrix_json.get("catalog_dir"):
                args += ["--catalog-dir", str(matrix_json["catalog_dir"])]
            for assignment in train_overrides(matrix_json, run, seed):
                args += ["--set", assignment]
            if (train_dir / "ckpt" / "state.json").is_file():
                args.append("--resume")
            _sashimi(args, log, cpu)
            walls["train"] = round(time.time() - t0, 1)
        meta = read_json(train_dir / "meta.json")
        result["params"] = meta.get("params")
        result["early_exit"] = meta.get("early_exit")
        result["train_wall_seconds"] = meta.get("wall_seconds")
        result["selected_step"] = meta.get("selected_step")
        metrics: dict[str, Any] = {}
        walls["generate"] = walls["evaluate"] = 0.0
        for name, ref in matrix_json["eval"].items():
            preds = folder / "preds" / f"{name}.jsonl"
            if not preds.is_file():
                t0 = time.time()
                tmp = preds.with_suffix(".partial")  # a killed batch must not look finished
                args = ["generate", "--model", str(train_dir), "--input", str(data_file(out_p, ref))]
                _sashimi([*args, "--out", str(tmp), "--quiet"], log, cpu)
                tmp.replace(preds)
                walls["generate"] += round(time.time() - t0, 1)
            summary_path = folder / "eval" / name / "summary.json"
            if not summary_path.is_file():
                t0 = time.time()
                args = ["evaluate", "--predictions", str(preds), "--name", run_name]
                args += [
                    "--data",
                    str(data_file(out_p, ref)),
                    "--out",
                    str(folder / "eval" / name),
                    "--quiet",
                ]
                catalog = matrix_json.get("catalog_dir")
                _sashimi([*args, *(["--catalog-dir", str(catalog)] if catalog else [])], log, cpu)
                walls["evaluate"] += round(time.time() - t0, 1)
            summary = read_json(summary_path)
            metrics[name] = {
                "n": summary["n"],
                "metrics": summary["metrics"],
                "ci": summary["systems"][run_name]["ci"],
            }
        result["metrics"] = metrics
        result["status"] = "early_exit" if result.get("early_exit") else "done"
    except (JobError, OSError, KeyError, ValueError) as err:
        result["status"] = "failed"
        result["error"] = str(err).splitlines()[0] if str(err) else type(err).__name__
    walls["total_this_invocation"] = round(time.time() - started, 1)
    result["wall_seconds"] = walls
    result["cpu_seconds"] = {**cpu, "total_this_invocation": round(sum(cpu.values()), 1)}
    if result["status"] == "failed" and _interrupted.is_set():
        return result  # killed by us: not a result, the next invocation resumes it
    write_json(result_path, result)
    return result


_interrupted = threading.Event()


# ---- the matrix ---------------------------------------------------------------------------------------


def _run_local(out: Path, matrix_json: dict, todo: list[Job], workers: int, on_done) -> None:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(run_job, str(out), matrix_json, j.run, j.seed): j for j in todo}
        for fut in as_completed(futures):
            on_done(futures[fut], fut.result())


def _run_ray(
    out: Path, matrix_json: dict, todo: list[Job], workers: int, on_done, address: str | None
) -> None:
    try:
        import ray
    except ImportError:
        raise DataError("--backend ray needs Ray: pip install -e '.[ray]'") from None
    if not ray.is_initialized():
        if address:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    remote = ray.remote(num_cpus=1, max_retries=0)(run_job)
    refs = {remote.remote(str(out.resolve()), matrix_json, j.run, j.seed): j for j in todo}
    pending = list(refs)
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        for ref in ready:
            on_done(refs[ref], ray.get(ref))


def run_matrix(
    matrix: Matrix,
    out: str | os.PathLike,
    *,
    seeds: int = 3,
    workers: int = 2,
    backend: str = "local",
    ray_address: str | None = None,
    only: list[str] | None = None,
    quiet: bool = False,
) -> dict:
    """Run (or resume) the matrix into OUT; returns the invocation record also appended to OUT/ablate.json."""
    if seeds < 1 or workers < 1:
        raise DataError("--seeds and --workers must be at least 1")
    if backend not in BACKENDS:
        raise DataError(f"--backend must be one of {', '.join(BACKENDS)}")
    if only:
        unknown = sorted(set(only) - {r.name for r in matrix.runs})
        if unknown:
            raise DataError(f"--only: no run named {', '.join(unknown)} in matrix {matrix.name}")
    out_p = Path(out)
    out_p.mkdir(parents=True, exist_ok=True)
    say = (lambda msg: None) if quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    matrix_json = matrix.to_json()
    previous = out_p / "matrix.json"
    if previous.is_file():
        old = read_json(previous)
        if {k: v for k, v in old.items() if k != "runs"} != {
            k: v for k, v in matrix_json.items() if k != "runs"
        }:
            raise DataError(
                f"{out_p} holds another matrix (its matrix.json differs in more than its runs): use another --out"
            )
        changed = [
            r["name"] for r in old["runs"] for n in matrix_json["runs"] if r["name"] == n["name"] and r != n
        ]
        if changed:
            raise DataError(
                f"run(s) {', '.join(changed)} changed since {out_p} was started: use another --out"
            )
    write_json(previous, matrix_json)

    started = time.time()
    prepare_data(matrix, out_p, say)
    run_baselines(matrix, out_p, say)
    jobs = [j for j in jobs_of(matrix, seeds) if not only or j.run in only]
    todo = [j for j in jobs if not is_finished(job_dir(out_p, j) / RESULT_FILE)]
    say(f"matrix {matrix.name}: {len(jobs)} jobs, {len(jobs) - len(todo)} already done, {len(todo)} to run")
    statuses: dict[str, int] = {}
    bar = progress(
        total=len(todo), desc=f"ablate {matrix.name}", unit="run", enabled=None if not quiet else False
    )

    def on_done(job: Job, result: dict) -> None:
        statuses[result["status"]] = statuses.get(result["status"], 0) + 1
        bar.update(1)
        f1 = result.get("metrics", {})
        brief = ", ".join(f"{k} F1 {v['metrics'].get('action_f1')}" for k, v in f1.items())
        say(
            f"{job.key}: {result['status']} {result.get('error', '')}{brief} ({result['wall_seconds']['total_this_invocation']:.0f}s)"
        )

    previous_handler = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):  # a kill: stop the children so they checkpoint-resume next time
        _interrupted.set()
        stop_children()
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_term)
    try:
        if backend == "ray":
            _run_ray(out_p, matrix_json, todo, workers, on_done, ray_address)
        else:
            _run_local(out_p, matrix_json, todo, workers, on_done)
    except KeyboardInterrupt:
        _interrupted.set()
        stop_children()
        raise
    finally:
        bar.close()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous_handler)
    record = {
        "matrix": matrix.name,
        "git_commit": git_commit(Path(__file__).parent),
        "seeds": seeds,
        "workers": workers,
        "backend": backend,
        "jobs": len(jobs),
        "ran": len(todo),
        "statuses": statuses,
        "wall_seconds": round(time.time() - started, 1),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    history_path = out_p / "ablate.json"
    history = read_json(history_path) if history_path.is_file() else []
    write_json(history_path, [*history, record])
    return record
