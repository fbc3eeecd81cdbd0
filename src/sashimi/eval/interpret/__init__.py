"""`sashimi interpret RUN_DIR --data DEV.jsonl --out DIR`: what a trained (ternary) model has learned (plan 5.2).

Four parts, each in its own module:

1. `weights`      ternary weight patterns of the output-head rows of the top-20 training actions;
2. `attribution`  gradient x input of each top action's logit w.r.t. the encoder inputs;
3. `bottleneck`   PCA / UMAP maps of the bottleneck z of every dev prompt, by domain and outcome;
4. `failures`     each failed dev row attributed to gate, skeleton, Tier 2 or Tier 3 (needs the
                  predictions and the rows.jsonl `sashimi evaluate` wrote for them).

Writes DIR/interpret.json (deterministic: the same inputs give the same bytes), DIR/report.md, PNGs,
and DIR/run.json (command config, git commit, wall time). The report names actions, word pieces and
row ids only, never a prompt or a program of the corpus.
"""

from sashimi.eval.interpret.run import run_interpret

__all__ = ["run_interpret"]
