"""EXP-1.2 pooled cross-validation (`sashimi exp gate --cv K`), on synthetic files with a fake encoder.

The encoder is replaced by a deterministic fake (no MiniLM load): a prompt "ood ..." is embedded near
+centre, "in ..." near -centre, anything else as pure noise, so separability is set by the test file.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import sashimi.eval.gate_exp as gate_exp
from sashimi.cli import main
from sashimi.errors import DataError
from sashimi.eval.gate_exp import _outer_folds, cross_validate_command

DIM = 16
_CENTRE = np.random.default_rng(123).normal(size=DIM)


class FakeEncoder:
    def __init__(self, cache_dir=None, **_kwargs):
        self.cache_root = cache_dir

    def embed(self, texts):
        out = []
        for t in texts:
            rng = np.random.default_rng(sum(ord(c) * (i + 1) for i, c in enumerate(t)))
            v = rng.normal(size=DIM)
            if t.startswith("ood "):
                v = 0.3 * v + _CENTRE
            elif t.startswith("in "):
                v = 0.3 * v - _CENTRE
            out.append(v / np.linalg.norm(v))
        return np.array(out, dtype=np.float32)


@pytest.fixture(autouse=True)
def fake_encoder(monkeypatch):
    monkeypatch.setattr(gate_exp, "Encoder", FakeEncoder)


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _separable_rows(per_class=20, per_template=3):
    rows = []
    for label, word in (("in_domain", "in"), ("ood", "ood")):
        for t in range(per_class):
            for p in range(per_template):
                rows.append(
                    {
                        "prompt": f"{word} template {t} prompt {p}",
                        "label": label,
                        "category": word,
                        "template_id": f"{word}/{t}",
                    }
                )
    return rows


def _random_rows(n_templates=40, per_template=3, seed=0):
    labels = np.random.default_rng(seed).permutation(["in_domain", "ood"] * (n_templates // 2))
    return [
        {"prompt": f"noise {t} {p}", "label": str(labels[t]), "template_id": f"t{t}"}
        for t in range(n_templates)
        for p in range(per_template)
    ]


@pytest.fixture()
def separable(tmp_path):
    return _write(tmp_path / "sep.jsonl", _separable_rows())


def _cv(path, **kw):
    kw.setdefault("kinds", ("linear",))
    kw.setdefault("features", ("embedding",))
    return cross_validate_command(path, **kw)


def test_outer_folds_test_every_row_once_on_unseen_templates():
    groups = np.array([r["template_id"] for r in _separable_rows()])
    for seed in (0, 1):
        splits = _outer_folds(groups, 5, seed)
        tested = np.sort(np.concatenate([te for _, te in splits]))
        assert np.array_equal(tested, np.arange(len(groups)))  # every row in exactly one test part
        for tr, te in splits:
            assert not set(groups[tr]) & set(groups[te])
            assert len(tr) + len(te) == len(groups)
    assigned = [[sorted(set(groups[te])) for _, te in _outer_folds(groups, 5, s)] for s in (0, 0, 1)]
    assert assigned[0] == assigned[1] and assigned[0] != assigned[2]  # the seed moves templates


def test_separable_file_meets_the_bar_and_counts_add_up(separable):
    result = _cv(separable, folds=5)
    assert result["experiment"] == "EXP-1.2-cv" and result["n"] == 120 and result["folds"] == 5
    layout = result["fold_layout"]
    assert sum(f["n_test"] for f in layout) == 120 and all(f["templates_shared"] == 0 for f in layout)
    assert sum(f["n_templates_test"] for f in layout) == 40
    m = result["candidates"]["linear"]
    assert m["precision"] == 1.0 and m["recall"] == 1.0 and m["auroc"] == 1.0 and m["meets_bar"]
    assert result["best"] == "linear" and result["best_meets_bar"] and m["folds_meeting_bar"] == 5
    assert m["per_category_accept_rate"] == {
        "in": {"n": 60, "accept_rate": 1.0},
        "ood": {"n": 60, "accept_rate": 0.0},
    }
    pooled = m["confusion"]
    assert sum(pooled.values()) == 120
    for key in pooled:
        assert pooled[key] == sum(f["confusion"][key] for f in m["per_fold"])
    assert m["n_ood"] == sum(f["n_ood"] for f in m["per_fold"]) == 60
    json.dumps(result)


def test_random_labels_do_not_meet_the_bar_and_pooled_equals_fold_sums(tmp_path):
    path = _write(tmp_path / "rand.jsonl", _random_rows())
    result = _cv(path, folds=4, threshold_rule="f1")
    m = result["candidates"]["linear"]
    assert not m["meets_bar"] and not result["best_meets_bar"]
    assert sum(m["confusion"].values()) == 120 and len(m["per_fold"]) == 4
    for key, value in m["confusion"].items():
        assert value == sum(f["confusion"][key] for f in m["per_fold"])


def test_same_seed_same_result_and_candidate_names(separable, tmp_path):
    dev = _write(
        tmp_path / "dev.jsonl",
        [
            {
                "shortcut_id": f"s{i}",
                "messages": [
                    {"role": "user", "content": f"in dev {i}"},
                    {"role": "assistant", "content": "x"},
                ],
            }
            for i in range(6)
        ],
    )
    a = _cv(separable, folds=2, seed=7, real_dev=dev, features=("embedding", "embedding+lexical"))
    b = _cv(separable, folds=2, seed=7, real_dev=dev, features=("embedding", "embedding+lexical"))
    a.pop("seconds"), b.pop("seconds")
    assert a == b
    assert list(a["candidates"]) == ["linear", "linear+lexical"] and a["kinds"] == ["linear"]
    frr = a["candidates"]["linear"]["real_dev_false_reject_rate"]
    assert set(frr) == {"mean", "max"} and 0.0 <= frr["mean"] <= frr["max"] <= 1.0


def test_a_fold_without_a_class_in_training_is_a_data_error(tmp_path):
    rows = [r for r in _separable_rows() if r["label"] == "in_domain"]
    rows += [{"prompt": f"ood lone {p}", "label": "ood", "template_id": "ood/only"} for p in range(3)]
    with pytest.raises(DataError, match="use more templates or fewer folds") as err:
        _cv(_write(tmp_path / "one.jsonl", rows), folds=5)
    assert "\n" not in str(err.value)


def test_out_dir_writes_metrics_and_run(separable, tmp_path, monkeypatch):
    import sashimi.io

    # no git call, no torch import: the run record is the project's, only its config is checked here
    monkeypatch.setattr(sashimi.io, "run_metadata", lambda config, **_kw: {"config": config})
    result = _cv(separable, folds=2, out_dir=tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["best"] == result["best"] and saved["fold_layout"] == result["fold_layout"]
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["config"]["folds"] == 2 and run["config"]["seed"] == 0


def test_cli_cv_prints_pooled_lines_and_json(separable, capsys):
    args = [
        "exp",
        "gate",
        "--ood",
        str(separable),
        "--cv",
        "2",
        "--kinds",
        "linear",
        "--features",
        "embedding",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert (
        out[0] == "best: linear" and "pooled precision 1.0000" in out[1] and "folds meeting bar 2/2" in out[1]
    )
    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["experiment"] == "EXP-1.2-cv"


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--cv", "1"], "at least 2 folds"),
        (["--cv", "41"], "only 40 distinct templates"),
        (["--cv", "3", "--evaluate", "x.jsonl"], "--evaluate"),
    ],
)
def test_cli_bad_cv_gives_one_line_errors(separable, capsys, extra, message):
    assert main(["exp", "gate", "--ood", str(separable), *extra]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in captured.err
