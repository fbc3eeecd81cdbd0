"""benchmarks/gate_blind_plot.py: the out-of-fold choice (never the blind set) and its argument errors."""

import json

import pytest


@pytest.fixture(scope="module")
def plot():
    import gate_blind_plot

    return gate_blind_plot


def _study(seed: int, oof: dict[str, tuple[float, float]], blind: dict[str, float]) -> dict:
    variants = {name: [{"seed": seed, "recall_at_p99": r, "auroc": a}] for name, (r, a) in oof.items()}
    held = {"seed": seed}
    for name, far in blind.items():
        held[name] = {"blind": {"false_accept_rate": far}}
    return {"variants": variants, "held_out": [held]}


def test_the_choice_is_out_of_fold_with_auroc_breaking_ties(plot):
    study = _study(
        1,
        {"fine-tuned x + lexical": (0.93, 0.996), "fine-tuned x + embedding+lexical": (0.93, 0.997),
         "fine-tuned x": (0.99, 0.999), "embedding+lexical": (0.95, 0.999)},
        {"fine-tuned x + lexical": 0.01, "fine-tuned x + embedding+lexical": 0.20, "embedding+lexical": 0.3},
    )
    name, result = plot.chosen(study)  # the fine-tuned fusions only; the blind figure plays no part
    assert name == "fine-tuned x + embedding+lexical" and result["blind"]["false_accept_rate"] == 0.20


def test_a_plot_is_written_and_unfinished_or_unnamed_studies_are_one_line_errors(plot, tmp_path, capsys):
    done = tmp_path / "s0"
    done.mkdir()
    study = _study(0, {"fine-tuned x + lexical": (0.9, 0.99)}, {"fine-tuned x + lexical": 0.1, "embedding+lexical": 0.2})
    (done / "study.json").write_text(json.dumps(study))
    out = tmp_path / "fig.png"
    assert plot.main(["--out", str(out), f"set={done}"]) == 0
    assert out.stat().st_size > 1000 and "frozen 20.0 %" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="not found"):
        plot.main(["--out", str(out), f"set={tmp_path / 'missing'}"])
    with pytest.raises(SystemExit, match="name its group"):
        plot.main(["--out", str(out), str(done)])
