"""EXP-1.2: train and compare the three domain-gate heads, adopt one, and score saved gates on any file.

Protocol (plan §1.2, architecture.md §5-6): embed every prompt of the labelled OOD set with the cached
MiniLM encoder; each head reads either the embedding alone ("embedding") or the embedding plus the TF-IDF
lexical view ("embedding+lexical", vocabulary fitted on our own prompts of the training part only, never
on "real/..." rows; see sashimi.model.gate); split 80/20 by `template_id` (GroupShuffleSplit) so test
templates are never seen in training; fit linear probe, 2-layer MLP and RBF SVM on the training part.

Each head's threshold is calibrated on out-of-fold scores of the training part (5 folds grouped by
template) by a rule: "precision" (default: the most OOD refused at >= 99% precision, Phase 1's
stop/go), "f1" (best F1), or "fixed" (0.5; the heads are trained class-balanced). The out-of-fold
metrics at that threshold are each candidate's `cv_train`, and adoption reads those only: the simplest
candidate (embedding before embedding+lexical, then linear, MLP, SVM) whose `cv_train` precision >= 0.99
and recall >= 0.95, else the best `cv_train` F1 (an SVM is not eligible when the training part holds
external-corpus prompts, since its support vectors are their embeddings). The held-out 20% is then
reported once per candidate (precision, recall, F1 with OOD positive, false-accept and false-reject
rates, AUROC, confusion matrix, time per prompt); no choice is made on it. The adopted head is saved,
as fitted on the training part, only to an explicit `save_dir` (`sashimi exp gate --save DIR`), with
its held-out metrics beside it; the shipped gate is produced by `benchmarks/reproduce.sh OUT gate-ship`.
`features` and `kinds` restrict the candidates (recorded in the result and in gate.json as
`feature_sets` and `kinds`).

Cross-validation (`cross_validate_command`, `sashimi exp gate --cv K`, experiment "EXP-1.2-cv"): with
~100 OOD prompts in a 20% test part, the 0.99 precision bar means zero false refusals, so one split is a
noisy estimate. This protocol scores EVERY prompt exactly once, by a gate that never saw its template:
K outer folds by `template_id` (GroupKFold, template-to-fold assignment shuffled by the seed); in each
fold each candidate's threshold is chosen from out-of-fold scores on the outer-training part (the same
nested rule as above), the head is fitted there and scores the outer-test part. Each prompt keeps its
margin (score minus its fold's threshold; refused when < 0), and precision, recall, F1, FAR, FRR, AUROC
and the confusion matrix are computed on all margins pooled, next to each fold's own numbers and the
count of folds meeting the bar. It evaluates the protocol only and saves no gate. Its pooled figure is
the headline estimate of the gate on unseen templates.

The metrics themselves (threshold search, P/R/F1, FAR/FRR, AUROC) are `sashimi.eval.metrics`.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from safetensors.numpy import save
from sklearn.model_selection import GroupKFold, GroupShuffleSplit

from sashimi.data.ood import LABELS
from sashimi.dsl.corpus import load_corpus
from sashimi.errors import DataError, Location
from sashimi.eval.metrics import PRECISION_BAR, RECALL_BAR, choose_threshold, meets_bar, ood_metrics
from sashimi.io import atomic_write_bytes, file_sha256, read_jsonl, run_metadata, write_json
from sashimi.io import progress as progress_bar
from sashimi.model.encoder import Encoder
from sashimi.model.gate import (
    KINDS,
    NO_MEANING,
    Gate,
    LexicalView,
    canonical_request,
    fit_gate,
    load_gate,
    save_gate,
    sigmoid,
)
from sashimi.model.gate_adapter import GateAdapter
from sashimi.model.spelling import correct_spelling


def load_labelled(path: str | os.PathLike, *, need_template: bool = False) -> list[dict]:
    """Rows {prompt, label[, category, template_id]}; a bad row raises a DataError at file:line."""
    rows = read_jsonl(path)
    if not rows:
        raise DataError("no rows", Location(str(path)))
    for line, row in enumerate(rows, start=1):  # read_jsonl skips blank lines; report the row number
        loc = Location(str(path), line)
        if not isinstance(row.get("prompt"), str) or not row["prompt"].strip():
            raise DataError("row needs a non-empty string 'prompt'", loc)
        if row.get("label") not in LABELS:
            raise DataError(f"'label' must be one of {', '.join(LABELS)}, got {row.get('label')!r}", loc)
        if need_template and not isinstance(row.get("template_id"), str):
            raise DataError("row needs a string 'template_id' (the split is grouped by template)", loc)
    return rows


# "+neighbours": the head's logit plus NEIGHBOUR_WEIGHT x the neighbour margin (sashimi.model.gate.Gate)
FEATURE_SETS = ("embedding", "embedding+lexical", "embedding+lexical+neighbours")
DEFAULT_FEATURE_SETS = FEATURE_SETS[:2]  # what `exp gate` compares unless --features names others


def _fit(kind: str, feature_set: str, x, is_ood, groups, texts, seed: int, threshold: float = 0.5):
    """Fit one candidate; a lexical view and the neighbour references come from our own prompts among
    these rows only (template ids not starting with "real/": the external corpus's prompts never ship)."""
    if feature_set not in FEATURE_SETS:
        raise DataError(f"unknown feature set {feature_set!r} (expected one of {', '.join(FEATURE_SETS)})")
    own = np.array([not str(g).startswith("real/") for g in groups], dtype=bool)
    lexical = neighbours = None
    if "+lexical" in feature_set:
        if not own.any():
            raise DataError("the lexical view needs some of our own (non-'real/') prompts to fit on")
        lexical = LexicalView.fit([t for t, keep in zip(texts, own, strict=True) if keep])
    if feature_set.endswith("+neighbours"):
        is_ood = np.asarray(is_ood, dtype=bool)
        if not (own & is_ood).any() or not (own & ~is_ood).any():
            raise DataError("the neighbour margin needs our own (non-'real/') prompts of both labels")
        neighbours = (np.asarray(x)[own & ~is_ood], np.asarray(x)[own & is_ood])
    return fit_gate(
        kind,
        x,
        ~is_ood,
        seed=seed,
        threshold=threshold,
        texts=list(texts),
        lexical=lexical,
        canonical=True,
        neighbours=neighbours,
    )


INNER_FOLDS = 5  # folds of `_oof_scores`, which choose each head's threshold inside a training part


def _oof_scores(
    kind: str,
    feature_set: str,
    x,
    is_ood,
    groups,
    texts,
    seed: int,
    folds: int = INNER_FOLDS,
    bar=None,
    logits: bool = False,
) -> np.ndarray:
    """Out-of-fold scores (or in-domain logits) on the training part, folds grouped by template (`bar`
    ticks once a fit)."""
    out = np.zeros(len(x))
    for tr, va in GroupKFold(n_splits=folds).split(x, is_ood, groups):
        gate = _fit(kind, feature_set, x[tr], is_ood[tr], groups[tr], [texts[i] for i in tr], seed)
        out[va] = (gate.logits if logits else gate.scores)(x[va], [texts[i] for i in va])
        if bar is not None:
            bar.update(1)
    return out


def _per_category(rows: list[dict], scores: np.ndarray, threshold: float) -> dict:
    out: dict[str, dict] = {}
    for cat in sorted({str(r.get("category", "")) for r in rows}):
        idx = [i for i, r in enumerate(rows) if str(r.get("category", "")) == cat]
        acc = float((scores[idx] >= threshold).mean())
        out[cat or "-"] = {"n": len(idx), "accept_rate": round(acc, 4)}
    return out


def _latency(gate, texts: list[str]) -> dict:
    """Time per prompt, one prompt at a time: uncached MiniLM encoding, and the gate head alone (with
    its adapted layers, for a gate with an adapter: their input states come from the same encoder pass
    in the product, `MiniLM.encode_with_tap`, so computing them is not timed here)."""
    enc = Encoder(use_cache=False, progress=False)
    enc.embed(["warm-up"])  # model load is not part of the per-prompt time
    enc_times, head_times = [], []
    for t in texts:
        t = gate.request_text(t)  # canonical (the timed prompts are raw), and corrected for a spelling gate
        taps = enc.hidden_states([t], gate.adapter.first_layer) if gate.adapter is not None else None
        t0 = time.perf_counter()
        e = enc.embed([t])
        t1 = time.perf_counter()
        gate.scores(e, [t], taps)
        head_times.append(time.perf_counter() - t1)
        enc_times.append(t1 - t0)
    return {
        "n_timed": len(texts),
        "encoder_ms_p50": round(1000 * float(np.median(enc_times)), 2),
        "head_ms_p50": round(1000 * float(np.median(head_times)), 4),
        "total_ms_p50": round(1000 * float(np.median(np.add(enc_times, head_times))), 2),
    }


@dataclass
class _Embedded:
    """A labelled OOD set with template ids, embedded: what both EXP-1.2 protocols start from."""

    rows: list[dict]
    labels: Counter
    encoder: object
    texts: list[str]
    x: np.ndarray
    is_ood: np.ndarray
    groups: np.ndarray


def _load_embedded(
    ood: str | os.PathLike, cache_dir: str | os.PathLike | None, progress: bool | None = None
) -> _Embedded:
    rows = load_labelled(ood, need_template=True)
    labels = Counter(r["label"] for r in rows)
    if len(labels) < 2:
        raise DataError("the OOD set needs both in_domain and ood rows", Location(str(ood)))
    encoder = Encoder(cache_dir, progress=progress)
    # the gate decides on canonical requests (sashimi.model.gate.canonical_request); so it is fitted on them
    texts = [canonical_request(r["prompt"]) for r in rows]
    x = encoder.embed(texts)
    is_ood = np.array([r["label"] == "ood" for r in rows])
    groups = np.array([r["template_id"] for r in rows])
    return _Embedded(rows, labels, encoder, texts, x, is_ood, groups)


def template_split(groups: np.ndarray, seed: int, test_size: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """(training, held-out) row indices of `experiment_command`'s 80/20 split by template (seeded)."""
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    return next(splitter.split(np.zeros(len(groups)), groups=groups))


def embed_real_dev(encoder, real_dev: str | os.PathLike | None):
    """(texts, embeddings) of the real in-domain dev prompts, or (None, None) without a file."""
    if real_dev is None:
        return None, None
    dev_texts = [canonical_request(r.prompt) for r in load_corpus(real_dev)]
    return dev_texts, encoder.embed(dev_texts)


def _read_as(gate: Gate, encoder, texts: list[str], x: np.ndarray, spelling: bool) -> tuple[np.ndarray, list[str]]:
    """(embeddings, texts) as `gate` reads canonical `texts` at decision time: with `spelling`, misspelt
    words corrected (`Gate.spelling`; only the changed texts are embedded again)."""
    if not spelling:
        return x, texts
    fixed = [correct_spelling(t, gate.spelling_words)[0] for t in texts]
    changed = [i for i, (a, b) in enumerate(zip(texts, fixed, strict=True)) if a != b]
    if changed:
        x = np.array(x, copy=True)
        x[changed] = encoder.embed([fixed[i] for i in changed])
    return x, fixed


def _candidate_names(features: tuple[str, ...], kinds: tuple[str, ...] | None) -> list[tuple[str, str, str]]:
    """(name, feature set, kind), simplest first: feature sets outer, kinds inner (the adoption order)."""
    return [
        (kind + feature_set.removeprefix("embedding"), feature_set, kind)  # linear, linear+lexical, ...
        for feature_set in features
        for kind in kinds or KINDS
    ]


def _fit_calibrated(kind: str, feature_set: str, train: tuple, seed: int, rule: str, bar=None):
    """Fit one candidate on `train` = (x, is_ood, groups, texts) with its threshold chosen by `rule` on
    out-of-fold scores of those same rows; returns (gate, out-of-fold scores, their logits)."""
    oof_logits = _oof_scores(kind, feature_set, *train, seed, bar=bar, logits=True)
    oof = sigmoid(oof_logits)  # what gate.scores gives: sigmoid of gate.logits
    threshold = choose_threshold(rule, oof, train[1])
    gate = _fit(kind, feature_set, *train, seed, threshold=threshold)
    if bar is not None:
        bar.update(1)
    return gate, oof, oof_logits


def experiment_command(
    ood: str | os.PathLike,
    *,
    real_dev: str | os.PathLike | None = None,
    save_dir: str | os.PathLike | None = None,
    out_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    seed: int = 0,
    threshold_rule: str = "precision",
    test_size: float = 0.2,
    n_timed: int = 20,
    features: tuple[str, ...] = DEFAULT_FEATURE_SETS,
    kinds: tuple[str, ...] | None = None,
    progress: bool | None = None,
    adapter: dict | None = None,
    spelling: bool = False,
) -> dict:
    """Run EXP-1.2 on a labelled OOD set; save the adopted gate to `save_dir` only when one is given.

    `spelling`: the gates read the held-out and real dev requests with misspelt words corrected, as the
    saved gate (`Gate.spelling`) does at decision time; fitting and its out-of-fold figures use the texts
    as written (`benchmarks/gate_spelling.py` measures a saved gate both ways).

    With `adapter` (a `sashimi.train.gate_adapter.LoRAConfig` as a dict; `--adapter key=value,...`) one
    more candidate, "linear+lexical+adapter": the linear embedding+lexical head fused with LoRA adapters
    on MiniLM's top layers (`_adapter_candidate`; "linear+lexical+neighbours+adapter", the head with the
    neighbour margin, when `features` has "embedding+lexical+neighbours"); it is then the only one
    eligible for adoption."""
    if adapter is not None:
        _check_adapter(adapter, features, kinds)  # a bad config fails before any work
    started = time.time()
    data = _load_embedded(ood, cache_dir, progress)
    rows, labels, texts = data.rows, data.labels, data.texts
    x, is_ood, groups = data.x, data.is_ood, data.groups
    train_idx, test_idx = template_split(groups, seed, test_size)
    if len(set(is_ood[test_idx])) < 2 or len(set(is_ood[train_idx])) < 2:
        raise DataError(
            "the template split left one class out of train or test; use more templates", Location(str(ood))
        )

    dev_texts, dev_x = embed_real_dev(data.encoder, real_dev)

    candidates: dict[str, dict] = {}
    gates = {}
    oof_logits: dict[str, np.ndarray] = {}  # each candidate's out-of-fold logits (the adapter fuses one)
    test_rows = [rows[i] for i in test_idx]
    train_texts, test_texts = [texts[i] for i in train_idx], [texts[i] for i in test_idx]
    names = []
    todo = _candidate_names(features, kinds)
    bar = progress_bar(desc="EXP-1.2 fits", total=len(todo) * (INNER_FOLDS + 1), unit="fit", enabled=progress)
    for name, feature_set, kind in todo:
        names.append(name)
        t0 = time.perf_counter()
        train = (x[train_idx], is_ood[train_idx], groups[train_idx], train_texts)
        gate, oof, oof_logits[name] = _fit_calibrated(kind, feature_set, train, seed, threshold_rule, bar)
        fit_seconds = time.perf_counter() - t0
        test_x, read_texts = _read_as(gate, data.encoder, test_texts, x[test_idx], spelling)
        t0 = time.perf_counter()
        scores = gate.scores(test_x, read_texts)
        head_us = 1e6 * (time.perf_counter() - t0) / len(test_idx)
        m = ood_metrics(scores, is_ood[test_idx], gate.threshold)
        m["features"] = feature_set
        cv = ood_metrics(oof, is_ood[train_idx], gate.threshold)
        m["cv_train"] = {k: cv[k] for k in ("precision", "recall", "f1", "auroc")}
        m["cv_train"]["meets_bar"] = meets_bar(cv)
        m["meets_bar"] = meets_bar(m)
        m["at_threshold_0.5"] = {
            k: v
            for k, v in ood_metrics(scores, is_ood[test_idx], 0.5).items()
            if k in ("precision", "recall", "f1")
        }
        m["fit_seconds"] = round(fit_seconds, 3)
        m["head_us_per_prompt_batched"] = round(head_us, 3)
        m["per_category_accept_rate"] = _per_category(test_rows, scores, gate.threshold)
        if dev_x is not None:
            dev_scores = gate.scores(*_read_as(gate, data.encoder, dev_texts, dev_x, spelling))
            m["real_dev_false_reject_rate"] = round(float((dev_scores < gate.threshold).mean()), 4)
        candidates[name] = m
        gates[name] = gate
    bar.close()
    if adapter is not None:
        partner_features, partner = _partner(features)
        name = partner + "+adapter"
        names.append(name)
        t0 = time.perf_counter()
        train = (x[train_idx], is_ood[train_idx], groups[train_idx], train_texts)
        keep = Path(out_dir) / "adapters" if out_dir is not None else None
        head = (gates[partner], oof_logits[partner])
        gate, oof = _adapter_candidate(head, adapter, data.encoder, train, seed, threshold_rule, keep, progress)
        first = gate.adapter.first_layer
        test_x, read_texts = _read_as(gate, data.encoder, test_texts, x[test_idx], spelling)
        scores = gate.scores(test_x, read_texts, data.encoder.hidden_states(read_texts, first))
        m = ood_metrics(scores, is_ood[test_idx], gate.threshold)
        m["features"] = partner_features + "+adapter"
        cv = ood_metrics(oof, is_ood[train_idx], gate.threshold)
        m["cv_train"] = {k: cv[k] for k in ("precision", "recall", "f1", "auroc")}
        m["cv_train"]["meets_bar"] = meets_bar(cv)
        m["meets_bar"] = meets_bar(m)
        m["fit_seconds"] = round(time.perf_counter() - t0, 3)
        m["per_category_accept_rate"] = _per_category(test_rows, scores, gate.threshold)
        if dev_x is not None:
            dev_read_x, dev_read = _read_as(gate, data.encoder, dev_texts, dev_x, spelling)
            dev_scores = gate.scores(dev_read_x, dev_read, data.encoder.hidden_states(dev_read, first))
            m["real_dev_false_reject_rate"] = round(float((dev_scores < gate.threshold).mean()), 4)
        m["adapter"] = dict(adapter)
        candidates[name] = m
        gates[name] = gate

    # An SVM's weights include its support vectors: embeddings of individual training prompts. When the
    # training part holds prompts of the external corpus (template ids "real/..."), those may not ship
    # in the package (no licence; nothing derived from it row by row), so the SVM cannot be adopted.
    external = any(str(groups[i]).startswith("real/") for i in train_idx)
    excluded = (
        {
            k: "support vectors would be embeddings of individual external-corpus prompts"
            for k in names
            if k.startswith("svm")
        }
        if external
        else {}
    )
    # Adoption reads the out-of-fold training metrics only; the held-out part is reported, never chosen on.
    eligible = [k for k in names if k not in excluded]  # `names` runs simplest first
    if adapter is not None:  # asked for: the fused gate is the one to adopt (the others are its baselines)
        eligible = [names[-1]]
    passing = [k for k in eligible if candidates[k]["cv_train"]["meets_bar"]]
    adopted = (
        passing[0]
        if passing
        else max(eligible, key=lambda k: (candidates[k]["cv_train"]["f1"], -names.index(k)))
    )
    timed = [rows[i]["prompt"] for i in test_idx[:n_timed]]
    latency = _latency(replace(gates[adopted], spelling=spelling), timed)
    result = {
        "experiment": "EXP-1.2",
        "ood_file": str(ood),
        "ood_file_sha256": file_sha256(ood),
        "n": len(rows),
        "labels": dict(labels),
        "n_train": int(len(train_idx)),
        "n_test": int(len(test_idx)),
        "n_templates_train": int(len(set(groups[train_idx]))),
        "n_templates_test": int(len(set(groups[test_idx]))),
        "templates_shared": int(len(set(groups[train_idx]) & set(groups[test_idx]))),
        "positive_class": "ood",
        "bar": {"precision": PRECISION_BAR, "recall": RECALL_BAR},
        "candidates": candidates,
        "adopted": adopted,
        "selected_on": "cv_train: out-of-fold scores of the training templates (the held-out part is "
        "reported only)",
        "adopted_meets_bar_cv_train": bool(passing),
        "adopted_meets_bar": candidates[adopted]["meets_bar"],
        "excluded_from_adoption": excluded,
        "trained_with_external_prompts": external,
        "decision": _decision(adopted, bool(passing), eligible, adapter is not None),
        "latency": latency,
        "real_dev": str(real_dev) if real_dev is not None else None,
        "real_dev_false_reject_rate": candidates[adopted].get("real_dev_false_reject_rate"),
        "seed": seed,
        "threshold_rule": threshold_rule,
        "feature_sets": list(features),
        "kinds": list(kinds or KINDS),
        "adapter": dict(adapter) if adapter is not None else None,
        "spelling": spelling,
    }
    if save_dir is not None:
        target = Path(save_dir)
        keys = (
            "decision",
            "selected_on",
            "adopted_meets_bar_cv_train",
            "adopted_meets_bar",
            "excluded_from_adoption",
            "trained_with_external_prompts",
            "ood_file_sha256",
            "n_train",
            "n_test",
            "seed",
            "threshold_rule",
            "feature_sets",
            "kinds",
            "adapter",
        )
        info = {k: result[k] for k in keys}
        info["heldout_metrics"] = {
            k: v for k, v in candidates[adopted].items() if k != "per_category_accept_rate"
        }
        info["latency"] = latency
        info["real_dev_false_reject_rate"] = result["real_dev_false_reject_rate"]
        info["trained_on"] = "training part (80% of templates) of the OOD set above"
        if spelling:
            info["spelling_note"] = "misspelt words corrected at decision time only; fitted on texts as written"
        save_gate(replace(gates[adopted], spelling=spelling), target, info)
        result["saved_to"] = str(target)
    result["seconds"] = round(time.time() - started, 2)
    if out_dir is not None:
        write_json(Path(out_dir) / "metrics.json", result)
        write_json(
            Path(out_dir) / "run.json",
            run_metadata({"ood": str(ood), "seed": seed}, started=started, metrics=result),
        )
    return result




def _decision(adopted: str, passing: bool, eligible: list[str], asked_for_adapter: bool) -> str:
    if asked_for_adapter:
        meets = "meets" if passing else "does not meet"
        return f"{adopted}: asked for with --adapter; it {meets} the bar on out-of-fold training scores"
    if passing:
        return (
            f"{adopted}: simplest head with out-of-fold training precision >= {PRECISION_BAR} and recall "
            f">= {RECALL_BAR}"
        )
    return (
        f"no eligible head meets the bar on out-of-fold training scores; {adopted} has the best "
        f"out-of-fold F1 among {', '.join(eligible)}"
    )


def _adapter_candidate(
    head: tuple[Gate, np.ndarray],
    config: dict,
    encoder: Encoder,
    train: tuple,
    seed: int,
    rule: str,
    keep_dir: Path | None,
    progress: bool | None,
) -> tuple[Gate, np.ndarray]:
    """The linear head `head` = (gate, its out-of-fold logits; `_fit_calibrated` on `train` = (x, is_ood,
    groups, texts)) fused with LoRA adapters on
    MiniLM's top layers: adapters trained per inner fold (the same template-grouped folds as the head's
    threshold) give out-of-fold logits of both parts; their means and spreads z-score each part, the
    rule picks the threshold on the fused out-of-fold scores, and the adapters trained on all of `train`
    ship. Returns (gate, fused out-of-fold scores). Each trained adapter is kept in `keep_dir` (safetensors),
    so a rerun with the same data, config and seed trains none again."""
    from sashimi.train import gate_adapter as lora

    cfg = _adapter_config(config)
    x, is_ood, groups, texts = train
    states = encoder.hidden_states(list(texts), cfg.first_layer)
    head_gate, head_oof = head
    jobs = [*GroupKFold(n_splits=INNER_FOLDS).split(x, is_ood, groups), (np.arange(len(x)), None)]
    adapter_oof, full = np.zeros(len(x)), {}
    bar = progress_bar(desc="gate adapters", total=len(jobs), unit="fit", enabled=progress)
    for k, (tr, va) in enumerate(jobs):
        key = _adapter_key(cfg, seed, [texts[i] for i in tr], is_ood[tr])
        path = keep_dir / f"{'all' if va is None else f'fold{k}'}.safetensors" if keep_dir is not None else None
        arrays = _load_adapter(path, key)
        if arrays is None:
            model = lora.train(encoder, [states[i] for i in tr], is_ood[tr], cfg, seed=seed)
            arrays = model.adapter_arrays()
            if path is not None:
                atomic_write_bytes(path, save(arrays, metadata={"key": key}))
        if va is None:
            full = arrays
        else:
            model = lora.load(encoder, cfg, arrays)
            adapter_oof[va] = lora.ood_logits(model, [states[i] for i in va])
        bar.update(1)
    bar.close()
    adapter_in = -adapter_oof  # the adapter's in-domain logit
    fused_adapter = GateAdapter(
        cfg.layers,
        cfg.rank,
        cfg.alpha,
        cfg.temperature,
        {k: np.asarray(v, dtype=np.float32) for k, v in full.items()},  # training names are the product's
        float(adapter_in.mean()),
        float(adapter_in.std()),
        float(head_oof.mean()),
        float(head_oof.std()),
    )
    oof = sigmoid(fused_adapter.fuse(head_oof, adapter_oof))
    threshold = choose_threshold(rule, oof, is_ood)
    return replace(head_gate, threshold=threshold, adapter=fused_adapter), oof


def _check_adapter(adapter: dict, features: tuple[str, ...], kinds: tuple[str, ...] | None) -> None:
    if not {"embedding+lexical", "embedding+lexical+neighbours"} & set(features) or "linear" not in (kinds or KINDS):
        raise DataError(
            "--adapter fuses with the linear embedding+lexical[+neighbours] head: include that candidate"
        )
    _adapter_config(adapter)


def _partner(features: tuple[str, ...]) -> tuple[str, str]:
    """(feature set, candidate name) of the linear head the adapters fuse with: the one with the neighbour
    margin when it is among `features`, else the embedding+lexical one."""
    feature_set = "embedding+lexical+neighbours" if "embedding+lexical+neighbours" in features else "embedding+lexical"
    return feature_set, "linear" + feature_set.removeprefix("embedding")


def _adapter_config(config: dict):
    from sashimi.train.gate_adapter import LoRAConfig

    cfg = LoRAConfig.from_dict(config)
    if cfg.rank < 1:
        raise DataError("--adapter needs rank >= 1 (the product merges low-rank adapters)")
    return cfg


def _adapter_key(cfg, seed: int, texts: list[str], is_ood: np.ndarray) -> str:
    import hashlib
    import json

    h = hashlib.sha256(json.dumps({"config": cfg.to_dict(), "seed": seed}, sort_keys=True).encode())
    for t, o in zip(texts, is_ood, strict=True):
        h.update(f"{int(o)}\x00{t}\x00".encode())
    return h.hexdigest()


def _load_adapter(path: Path | None, key: str) -> dict[str, np.ndarray] | None:
    """A kept adapter's arrays when `path` holds one trained on the same data, config and seed."""
    if path is None or not path.is_file():
        return None
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            if (f.metadata() or {}).get("key") != key:
                return None
            return {k: f.get_tensor(k) for k in f.keys()}
    except (OSError, ValueError, SafetensorError) as err:
        print(f"warning: {path}: unreadable kept adapter, trained again ({err})".splitlines()[0], file=sys.stderr)
        return None


def _outer_folds(groups: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) row indices of `folds` folds grouped by template; `seed` shuffles which templates
    share a fold. Every row is in exactly one test part."""
    n_templates = len(set(groups.tolist()))
    if folds < 2:
        raise DataError(f"cross-validation needs at least 2 folds, got {folds}")
    if folds > n_templates:
        raise DataError(f"{folds} folds but only {n_templates} distinct templates; use fewer folds")
    splitter = GroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(groups)), groups=groups))


def cross_validate_command(
    ood: str | os.PathLike,
    *,
    folds: int = 5,
    real_dev: str | os.PathLike | None = None,
    out_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    seed: int = 0,
    threshold_rule: str = "precision",
    features: tuple[str, ...] = DEFAULT_FEATURE_SETS,
    kinds: tuple[str, ...] | None = None,
    progress: bool | None = None,
    adapter: dict | None = None,
    spelling: bool = False,
) -> dict:
    """EXP-1.2 by pooled, template-grouped cross-validation: every prompt is scored once, by a gate that
    never saw its template.

    With `adapter` (as `experiment_command`'s), the fused candidate "linear+lexical+adapter" is
    cross-validated too: per outer fold, 6 adapter trainings (5 inner folds and the fold's whole training
    part), kept in `out_dir/adapters/outer<f>` so that an interrupted run resumes where it stopped.
    With `spelling`, each fold's gate reads its test prompts and real dev with misspelt words corrected
    (decision time, as `Gate.spelling`); fitting uses the texts as written, so kept adapters are reused.

    Outer folds: GroupKFold over `template_id`, the template-to-fold assignment shuffled by `seed`. In each
    fold every candidate gets its threshold from out-of-fold scores on the outer-training part (nested,
    as in `experiment_command`), is fitted there, and scores the outer-test part; a prompt is refused
    when its score is below that fold's threshold, so its margin (score - threshold) < 0. The pooled
    metrics are computed on all margins at once (threshold 0); `per_fold` keeps each fold's own.
    This mode evaluates the protocol only: no gate is saved (the shipped gate comes from
    `experiment_command`), so there is no adoption and no SVM exclusion; `best` is the simplest candidate
    meeting the bar on pooled metrics, else the best pooled F1.
    """
    started = time.time()
    if adapter is not None:
        _check_adapter(adapter, features, kinds)  # a bad config fails before any work
    data = _load_embedded(ood, cache_dir, progress)
    rows, texts, x, is_ood, groups = data.rows, data.texts, data.x, data.is_ood, data.groups
    splits = _outer_folds(groups, folds, seed)
    layout = []
    for f, (tr, te) in enumerate(splits, start=1):
        for label, present in (("ood", is_ood[tr]), ("in_domain", ~is_ood[tr])):
            if not present.any():
                raise DataError(
                    f"fold {f} of {folds}: its training part has no {label} rows; use more templates or "
                    "fewer folds",
                    Location(str(ood)),
                )
        train_templates, test_templates = set(groups[tr].tolist()), set(groups[te].tolist())
        if len(train_templates) < INNER_FOLDS:
            raise DataError(
                f"fold {f} of {folds}: its training part has {len(train_templates)} templates, the threshold"
                f" needs {INNER_FOLDS} for its inner folds; use more templates or fewer folds",
                Location(str(ood)),
            )
        layout.append(
            {
                "fold": f,
                "n_train": int(len(tr)),
                "n_test": int(len(te)),
                "n_templates_train": len(train_templates),
                "n_templates_test": len(test_templates),
                "templates_shared": len(train_templates & test_templates),
            }
        )
    dev_texts, dev_x = embed_real_dev(data.encoder, real_dev)

    candidates: dict[str, dict] = {}
    names = []
    todo = _candidate_names(features, kinds)
    bar = progress_bar(
        desc="EXP-1.2-cv fits",
        total=(len(todo) + (adapter is not None)) * folds * (INNER_FOLDS + 1),
        unit="fit",
        enabled=progress,
    )

    def train_part(tr):
        return (x[tr], is_ood[tr], groups[tr], [texts[i] for i in tr])

    def fitter(kind: str, feature_set: str):
        return lambda f, tr: _fit_calibrated(kind, feature_set, train_part(tr), seed, threshold_rule, bar)[0]

    partner_features, partner = _partner(features)

    def fused(f: int, tr) -> Gate:
        head, _, head_oof = _fit_calibrated("linear", partner_features, train_part(tr), seed, threshold_rule, bar)
        keep = Path(out_dir) / "adapters" / f"outer{f}" if out_dir is not None else None
        return _adapter_candidate(
            (head, head_oof), adapter, data.encoder, train_part(tr), seed, threshold_rule, keep, progress
        )[0]

    def taps_of(gate: Gate, some_texts: list[str]):
        return data.encoder.hidden_states(some_texts, gate.tap_layer) if gate.adapter is not None else None

    jobs = [(name, feature_set, fitter(kind, feature_set)) for name, feature_set, kind in todo]
    if adapter is not None:
        jobs.append((partner + "+adapter", partner_features + "+adapter", fused))
    for name, feature_set, fit_fold in jobs:
        names.append(name)
        margins = np.full(len(rows), np.nan)
        per_fold, dev_frr = [], []
        for f, (tr, te) in enumerate(splits, start=1):
            gate = fit_fold(f, tr)
            test_x, test_texts = _read_as(gate, data.encoder, [texts[i] for i in te], x[te], spelling)
            scores = gate.scores(test_x, test_texts, taps_of(gate, test_texts))
            margins[te] = np.asarray(scores, dtype=np.float64) - gate.threshold
            fm = ood_metrics(scores, is_ood[te], gate.threshold)
            fold = {k: fm[k] for k in ("n_ood", "n_in_domain", "precision", "recall", "confusion")}
            fold.update(fold=f, threshold=round(float(gate.threshold), 6), meets_bar=meets_bar(fm))
            if dev_x is not None:
                dev_read_x, dev_read = _read_as(gate, data.encoder, dev_texts, dev_x, spelling)
                dev_scores = gate.scores(dev_read_x, dev_read, taps_of(gate, dev_read))
                dev_frr.append(float((dev_scores < gate.threshold).mean()))
                fold["real_dev_false_reject_rate"] = round(dev_frr[-1], 4)
            per_fold.append(fold)
        if np.isnan(margins).any():  # GroupKFold tests every row once; guard the pooled numbers anyway
            raise DataError("internal: some prompts were not scored by any fold")
        m = ood_metrics(margins, is_ood, 0.0)  # refused == margin < 0 == score < that fold's threshold
        del m["threshold"]
        m["features"] = feature_set
        m["meets_bar"] = meets_bar(m)
        m["folds_meeting_bar"] = sum(fold["meets_bar"] for fold in per_fold)
        m["per_category_accept_rate"] = _per_category(rows, margins, 0.0)
        if dev_x is not None:
            m["real_dev_false_reject_rate"] = {
                "mean": round(float(np.mean(dev_frr)), 4),
                "max": round(float(np.max(dev_frr)), 4),
            }
        m["per_fold"] = per_fold
        candidates[name] = m
    bar.close()

    passing = [k for k in names if candidates[k]["meets_bar"]]  # `names` runs simplest first
    best = passing[0] if passing else max(names, key=lambda k: (candidates[k]["f1"], -names.index(k)))
    result = {
        "experiment": "EXP-1.2-cv",
        "ood_file": str(ood),
        "ood_file_sha256": file_sha256(ood),
        "n": len(rows),
        "labels": dict(data.labels),
        "folds": folds,
        "fold_layout": layout,
        "seed": seed,
        "threshold_rule": threshold_rule,
        "feature_sets": list(features),
        "kinds": list(kinds or KINDS),
        "adapter": dict(adapter) if adapter is not None else None,
        "spelling": spelling,
        "positive_class": "ood",
        "bar": {"precision": PRECISION_BAR, "recall": RECALL_BAR},
        "candidates": candidates,
        "best": best,
        "best_meets_bar": bool(passing),
        "real_dev": str(real_dev) if real_dev is not None else None,
    }
    result["seconds"] = round(time.time() - started, 2)
    if out_dir is not None:
        write_json(Path(out_dir) / "metrics.json", result)
        config = {"ood": str(ood), "seed": seed, "folds": folds, "threshold_rule": threshold_rule}
        write_json(Path(out_dir) / "run.json", run_metadata(config, started=started, metrics=result))
    return result


def evaluate_command(
    path: str | os.PathLike,
    *,
    gate_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    encoder=None,
) -> dict:
    """Score a saved gate on a labelled file; one flat dict of metrics (plus a per-category breakdown)."""
    gate = load_gate(gate_dir, encoder=encoder or Encoder(cache_dir))
    rows = load_labelled(path)
    texts = [r["prompt"] for r in rows]
    decisions = gate.decide(texts)  # what `sashimi gate` does, meaningless-input rule included
    scores = np.array([d.score for d in decisions])
    is_ood = np.array([r["label"] == "ood" for r in rows])
    result = ood_metrics(scores, is_ood, gate.threshold)
    result["refused_no_meaning"] = sum(1 for d in decisions if d.reason.startswith(NO_MEANING))
    result["gate"] = gate.kind
    result["features"] = gate.features_name
    result["file"] = str(path)
    if any("category" in r for r in rows):
        result["per_category_accept_rate"] = _per_category(rows, scores, gate.threshold)
    return result
