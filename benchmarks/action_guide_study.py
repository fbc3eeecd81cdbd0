"""Study: guide the shipped decoder with a per-action presence model of the request.

    python benchmarks/action_guide_study.py 0 0.5 1 2      # the guide weights (lam) to try

The neighbour chooser's `ActionModel` (MiniLM + hashed tf-idf, one logistic regression per action) is
fitted on the real split's train part (aggregate weights; it could ship, an index could not); while
the shipped model decodes a real dev request, every action token's logit gets + lam * log-odds of that
action's presence, on top of the default closing bias. Prints real dev action F1 / skeleton exact per
lam (predictions and evaluations under /work/runs/cap/guide/). A study: nothing here is used by
`sashimi generate`."""
import json
import os
import subprocess
import sys

import numpy as np

import sashimi.model.search as S
from sashimi.dsl.catalog import Catalog
from sashimi.dsl.corpus import load_corpus
from sashimi.ir.typed import to_typed
from sashimi.model.chooser import ActionModel, ChooserConfig
from sashimi.model.encoder import Encoder
from sashimi.model.generator import Generator, prediction_record
from sashimi.train.data import parse_rows


def main(argv: list[str] | None = None) -> int:
    lams = [float(x) for x in (sys.argv[1:] if argv is None else argv)] or [0.0, 0.5, 1.0, 2.0]
    cat = Catalog.load("/work/shared/data/shortcutforge")
    rows = load_corpus("/work/runs/split/train.jsonl")
    parsed, _ = parse_rows(rows)
    prompts = [r.prompt for r, _ in parsed]
    programs = [[t.text for t in to_typed(ir, cat).tokens] for _, ir in parsed]
    pooled = Encoder(progress=False).embed(prompts)
    am = ActionModel.fit(pooled, prompts, programs, ChooserConfig(buckets=4096))
    gen = Generator.load(None)
    tid = {t: i for i, t in enumerate(gen.model.table.tokens)}
    cols = [(j, tid[a]) for j, a in enumerate(am.actions) if a in tid]
    print("modelled actions", len(am.actions), "in the shipped table", len(cols), flush=True)
    base = gen.bias.copy()
    state = {}
    orig_search = S.search
    def guided(decoder, memory, constraint, *, beam=1, bos_id=1, bias=None):
        return orig_search(decoder, memory, constraint, beam=beam, bos_id=bos_id, bias=state["bias"])
    orig_encode = gen.encoder.encode
    def enc(texts):
        p, s = orig_encode(texts)
        prob = np.clip(am.probs(p, texts)[0], 1e-4, 1 - 1e-4)
        b = base.copy()
        for j, t in cols:
            b[t] += lam * np.log(prob[j] / (1 - prob[j]))
        state["bias"] = b
        return p, s
    gen.encoder.encode = enc
    S.search = guided
    dev = [json.loads(line) for line in open("/work/runs/split/dev.jsonl")]
    os.makedirs("/work/runs/cap/guide", exist_ok=True)
    for lam in lams:
        out = f"/work/runs/cap/guide/dev_lam{lam:g}".replace(".", "p")
        with open(out + ".jsonl", "w") as fh:
            for r in dev:
                g = gen.generate(r["messages"][1]["content"])
                fh.write(json.dumps(prediction_record(r["shortcut_id"], r["messages"][1]["content"], g)) + "\n")
        res = subprocess.run(["sashimi", "evaluate", "--predictions", out + ".jsonl", "--data", "/work/runs/split/dev.jsonl",
                              "--catalog-dir", "/work/shared/data/shortcutforge", "--out", out + ".eval", "--json", "--quiet"],
                             capture_output=True, text=True)
        m = json.loads(res.stdout)["systems"]["system"]["metrics"]
        print(lam, f"F1 {m['action_f1']:.3f} skel {m['skeleton_exact']:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
