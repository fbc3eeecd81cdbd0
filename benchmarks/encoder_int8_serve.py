"""The load test with an 8-bit MiniLM in `sashimi serve`'s workers, alternating with float32 (RESULTS §8).

    python benchmarks/encoder_int8_serve.py --runs 3 --out runs/encoder_int8_serve

Study code for issue 15's next step (not a `sashimi` feature): it quantises MiniLM once as
`encoder_int8.py` does (signed weights, one scale per output channel), then runs
`benchmarks/serve_load.py --workers 2` alternately with the float32 encoder and with the 8-bit one.
The 8-bit graph reaches the server's processes through a `sitecustomize` module on PYTHONPATH that
replaces the onnxruntime session of every `MiniLM` built in that process (the gate and the model are
the shipped ones, fitted on float32 features: `encoder_int8.py --answers` measures what that changes).
Each run's report is kept in OUT/RUN/report.json; the summary in OUT/summary.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HOOK = '''"""Study hook (benchmarks/encoder_int8_serve.py): MiniLM's session from $SASHIMI_STUDY_INT8."""
import os

if os.environ.get("SASHIMI_STUDY_INT8"):
    import sashimi.model.minilm as _minilm

    _init = _minilm.MiniLM.__init__

    def _init_int8(self, *args, **kwargs):
        _init(self, *args, **kwargs)
        if self._session is not None:
            from pathlib import Path

            from sashimi.model.onnx_graph import session

            self._session = session(Path(os.environ["SASHIMI_STUDY_INT8"]).read_bytes(), {}, 1)

    _minilm.MiniLM.__init__ = _init_int8
'''


def build_int8(path: Path) -> None:
    """The 8-bit MiniLM graph (per-channel signed weights) written to `path`."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from sashimi.model.minilm import MiniLM

    spec = importlib.util.spec_from_file_location("encoder_int8", Path(__file__).with_name("encoder_int8.py"))
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    logging.getLogger().setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        onnx.save(study.float_model(MiniLM()), f"{tmp}/float.onnx")
        quantize_dynamic(f"{tmp}/float.onnx", str(path), weight_type=QuantType.QInt8, per_channel=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="runs of each encoder, alternating")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    out = Path(args.out)
    (out / "hook").mkdir(parents=True, exist_ok=True)
    (out / "hook" / "sitecustomize.py").write_text(HOOK)
    model = out / "minilm_int8.onnx"
    if not model.exists():
        build_int8(model)
    summary: dict[str, list] = {"float32": [], "int8": []}
    for run in range(1, args.runs + 1):
        for name in ("float32", "int8"):
            # both arms start from the float32 graph (the shipped model now declares int8): the hook
            # swaps in the study's 8-bit session, shared passes included, as measured in RESULTS §8
            env = dict(os.environ, SASHIMI_ENCODER_PRECISION="float32")
            env["PYTHONPATH"] = os.pathsep.join([str(out / "hook"), *filter(None, [env.get("PYTHONPATH")])])
            if name == "int8":
                env["SASHIMI_STUDY_INT8"] = str(model.resolve())
            else:
                env.pop("SASHIMI_STUDY_INT8", None)
            folder = out / f"{name}_{run}"
            cmd = [sys.executable, str(Path(__file__).with_name("serve_load.py")), "--workers", "2",
                   "--requests", str(args.requests), "--out", str(folder)]  # fmt: skip
            done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if done.returncode not in (0, 1):  # 1 = a bar missed, reported in the file
                sys.exit(f"error: serve_load.py failed: {done.stderr.strip()[-500:]}")
            r = json.loads((folder / "report.json").read_text())
            row = {
                "run": run,
                "throughput_rps": r["throughput_rps"],
                "p50_ms": r["all"]["p50_ms"],
                "p95_ms": r["all"]["p95_ms"],
                "server_errors_5xx": r["server_errors_5xx"],
                "unexpected": r["unexpected"],
                "growth_after_warmup_mb": r["memory"].get("growth_after_warmup_mb"),
            }
            summary[name].append(row)
            print(name, row, file=sys.stderr)
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
