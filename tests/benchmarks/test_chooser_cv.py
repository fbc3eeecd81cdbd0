"""benchmarks/chooser_cv.py (RESULTS §7.9 selects the chooser's c and minilm_weight with it)."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def cv():
    import chooser_cv

    return chooser_cv


def _rows(n_per_intent: int = 12):
    """Three request kinds whose words say the actions; MiniLM-like vectors that carry no signal."""
    kinds = [
        ("set a timer for {} minutes", ["A:timer"]),
        ("write a note about {} and save it", ["A:note", "A:save"]),
        ("play the song {} loudly", ["A:play", "A:volume", "A:play"]),
    ]
    prompts, texts = [], []
    for i in range(n_per_intent):
        for template, actions in kinds:
            prompts.append(template.format(f"thing{i}"))
            texts.append(["SHORTCUT", *actions, "END"])
    rng = np.random.default_rng(0)
    pooled = rng.normal(size=(len(prompts), 16)).astype(np.float32)
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    # every row its own family, numbered at random (GroupKFold deals equal-sized groups out in id order)
    return pooled, prompts, texts, rng.permutation(len(prompts))


def test_nearest_rows_never_come_from_the_same_family(cv):
    pooled, _, _, _ = _rows(4)
    groups = np.array([0, 0, 1, 1, 2, 2] + list(range(3, 3 + len(pooled) - 6)))
    order, sims = cv.nearest_other_families(pooled, groups, 5)
    assert order.shape == (len(pooled), 5)
    for i, row in enumerate(order):
        assert i not in row and all(groups[r] != groups[i] for r in row)
        assert list(sims[i, row]) == sorted(sims[i, row], reverse=True)


def test_out_of_fold_choice_follows_the_request_not_the_random_neighbour(cv):
    pooled, prompts, texts, groups = _rows()
    rows = cv.cross_validate(pooled, prompts, texts, groups, [1.0, 16.0], [1.0], [0.0, 1.0], k=10, folds=3)
    assert set(rows) == {f"c={c},minilm_weight=1,mix={m}" for c in (1, 16) for m in (0, 1)}
    assert all(len(v) == len(prompts) and all(0.0 <= s <= 1.0 for s in v) for v in rows.values())
    actions = [[t for t in seq if t.startswith("A:")] for seq in texts]
    order, _ = cv.nearest_other_families(pooled, groups, 10)
    from sashimi.eval.fidelity import multiset_f1

    knn1 = np.mean([multiset_f1(actions[order[i, 0]], actions[i]) for i in range(len(prompts))])
    # the words decide the actions: the action model learns them out of fold, the random vectors cannot
    assert np.mean(rows["c=16,minilm_weight=1,mix=0"]) > 0.95 > knn1 + 0.3


def test_variant_features_start_with_the_choosers_own_expected_f1():
    import chooser_variants
    from sashimi.model.chooser import expected_f1

    p = np.array([0.9, 0.2, 0.6])
    column = {"A:a": 0, "A:b": 1, "A:c": 2}
    cands = [["A:a", "A:c", "A:a"], ["A:b", "A:zzz"], []]
    cos = np.array([0.8, 0.7, 0.5])
    f = chooser_variants.candidate_features(p, column, cands, cos)
    assert f.shape == (3, 12)
    assert f[0, 0] == pytest.approx(expected_f1(p, [0, 2], 2))
    assert f[1, 0] == pytest.approx(expected_f1(p, [1], 2)) and f[1, 10] == 1  # one action the model lacks
    assert f[2, 0] == 0.0
    assert list(f[:, 2]) == pytest.approx([0.0, -0.1, -0.3]) and list(f[:, 3]) == [0, 1, 2]
