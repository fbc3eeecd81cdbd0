"""The inference path's own parts: plain-torch MiniLM, the scikit-learn-free lexical view, request checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sashimi.model.generator import MAX_REQUEST_CHARS, request_problem, validity_line

TEXTS = [
    "set a timer for 10 minutes",
    'Log 200 mg of caffeine to Health, then text my wife "done"',
    "héllo wörld 😀 naïve café",
    "x" * 700,  # one long word: BERT's [UNK] path
    "Turn on Do Not Disturb until 5pm and play my Focus playlist; if it is a weekend, skip it.",
    "a",
]


@pytest.fixture(scope="module")
def minilm():
    from sashimi.model.minilm import MiniLM

    return MiniLM()


def test_minilm_matches_the_training_encoder(minilm, encoder):
    pooled, states = minilm.encode(TEXTS)
    ref_pooled = encoder.embed(TEXTS)
    ref_states = encoder.token_states(TEXTS)
    assert pooled.shape == ref_pooled.shape == (len(TEXTS), 384)
    assert np.abs(pooled - ref_pooled).max() < 1e-5
    for mine, ref in zip(states, ref_states, strict=True):
        assert mine.shape == ref.shape
        assert np.abs(mine - ref).max() < 1e-4


def test_minilm_truncates_like_sentence_transformers(minilm, encoder):
    long = " ".join(f"word{i}" for i in range(400))  # > 256 word pieces
    (mine,), (ref,) = minilm.token_states([long]), encoder.token_states([long])
    assert mine.shape == ref.shape == (256, 384)


def test_minilm_backends_give_the_same_numbers(minilm):
    from sashimi.model.minilm import MiniLM

    assert minilm.backend == "onnxruntime"  # the default: what `sashimi generate` and `serve` run
    texts = [*TEXTS, "", " ".join(f"word{i}" for i in range(400))]
    pooled, states = minilm.encode(texts)
    ref_pooled, ref_states = MiniLM(backend="torch").encode(texts)
    assert np.abs(pooled - ref_pooled).max() < 1e-6
    for mine, ref in zip(states, ref_states, strict=True):
        assert mine.shape == ref.shape and mine.dtype == np.float32
        assert np.abs(mine - ref).max() < 2e-5


def test_minilm_backend_from_the_environment_and_a_clear_error(monkeypatch):
    from sashimi.errors import DataError
    from sashimi.model.minilm import MiniLM

    monkeypatch.setenv("SASHIMI_ENCODER_BACKEND", "torch")
    assert MiniLM().backend == "torch"
    with pytest.raises(DataError, match="unknown encoder backend 'tensorflow'"):
        MiniLM(backend="tensorflow")


@pytest.fixture(scope="module")
def minilm_int8():
    from sashimi.model.minilm import MiniLM

    return MiniLM(precision="int8")


def _int8_study():
    """benchmarks/encoder_int8.py (the study that measured the 8-bit graph), loaded by path."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "encoder_int8.py"
    spec = importlib.util.spec_from_file_location("encoder_int8", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_int8_minilm_is_onnxruntimes_own_dynamic_quantisation(minilm, minilm_int8, tmp_path):
    """The 8-bit graph written at load = `quantize_dynamic(per_channel=True, weight_type=QInt8)` of the
    float graph, state for state, bit for bit (its quality was measured on that: RESULTS §8)."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from sashimi.model.onnx_graph import session

    onnx.save(_int8_study().float_model(minilm), tmp_path / "float.onnx")  # every Gemm as MatMul + Add
    logging.getLogger().setLevel(logging.ERROR)  # the quantiser's advice to pre-process
    quantize_dynamic(str(tmp_path / "float.onnx"), str(tmp_path / "q.onnx"),
                     weight_type=QuantType.QInt8, per_channel=True)  # fmt: skip
    reference = session((tmp_path / "q.onnx").read_bytes(), {}, 1)
    for text in TEXTS[:3] + TEXTS[4:]:
        ids = minilm.tokenizer.encode(text).ids
        feed = {"words": minilm._words[ids], "positions": np.arange(len(ids), dtype=np.int64),
                "bias": np.zeros((len(ids), len(ids)), np.float32)}  # fmt: skip
        assert np.array_equal(reference.run(None, feed)[0], minilm_int8._session.run(None, feed)[0]), text


def test_int8_minilm_moves_features_a_little_and_never_by_batch(minilm, minilm_int8):
    """8-bit features are close to float32 but not equal (pooled cosine ~0.99), and a text's features do
    not depend on the texts encoded with it (`encode_together` encodes each alone at 8 bits)."""
    pooled, states = minilm_int8.encode(TEXTS)
    ref, _ = minilm.encode(TEXTS)
    cosines = (pooled * ref).sum(1)
    assert cosines.min() > 0.97 and cosines.max() < 1 - 1e-5
    together, states_together = minilm_int8.encode_together(TEXTS)
    assert np.array_equal(together, pooled)
    assert all(np.array_equal(a, b) for a, b in zip(states, states_together, strict=True))


def test_minilm_precision_errors_are_clear(monkeypatch):
    from sashimi.errors import DataError
    from sashimi.model.minilm import MiniLM

    with pytest.raises(DataError, match="unknown encoder precision 'int4'"):
        MiniLM(precision="int4")
    with pytest.raises(DataError, match="needs the onnxruntime backend"):
        MiniLM(backend="torch", precision="int8")
    monkeypatch.setenv("SASHIMI_ENCODER_PRECISION", "int8")
    assert MiniLM().precision == "int8"


def test_minilm_encodes_texts_together_as_alone(minilm):
    """One pass over several texts (block-diagonal attention) gives each text its own numbers, to
    float32 rounding; the lone path is unchanged by it."""
    texts = [*TEXTS, "", "set a timer for 10 minutes"]  # an empty text and a repeated one too
    pooled, states = minilm.encode(texts)
    together_pooled, together_states = minilm.encode_together(texts)
    assert together_pooled.shape == pooled.shape and together_pooled.dtype == np.float32
    assert np.abs(together_pooled - pooled).max() < 1e-6
    for mine, ref in zip(together_states, states, strict=True):
        assert mine.shape == ref.shape and mine.dtype == np.float32
        assert np.abs(mine - ref).max() < 2e-5
    assert np.array_equal(minilm.encode(texts[:1])[0], pooled[:1])  # alone: the same as in a list
    one_pooled, one_states = minilm.encode_together(texts[:1])  # a batch of one is `encode`
    assert np.array_equal(one_pooled, pooled[:1]) and np.array_equal(one_states[0], states[0])
    with pytest.raises(TypeError):
        minilm.encode_together("one string")


def test_minilm_encodes_long_texts_together_in_bounded_passes(minilm, monkeypatch):
    """Eight 200-piece requests never make one 1,600-piece pass (its attention matrix would be ~120 MB):
    consecutive texts share a pass only up to TOGETHER_MAX_PIECES word pieces."""
    from sashimi.model import minilm as minilm_module

    texts = [" ".join(f"word{i}x{j}" for j in range(60)) for i in range(8)]  # ~200 pieces each
    sizes = []
    run = minilm._run
    monkeypatch.setattr(minilm, "_run", lambda pieces: sizes.append(sum(map(len, pieces))) or run(pieces))
    pooled, states = minilm.encode_together(texts)
    assert len(states) == 8 and len(sizes) > 1
    assert all(n <= minilm_module.TOGETHER_MAX_PIECES for n in sizes) and sum(sizes) == sum(len(h) for h in states)
    ref_pooled, ref_states = minilm.encode(texts)
    assert np.abs(pooled - ref_pooled).max() < 1e-6
    assert all(np.abs(a - b).max() < 2e-5 for a, b in zip(states, ref_states, strict=True))


def test_minilm_torch_backend_encodes_together_one_at_a_time():
    from sashimi.model.minilm import MiniLM

    torch_minilm = MiniLM(backend="torch")
    a, b = torch_minilm.encode(TEXTS[:3]), torch_minilm.encode_together(TEXTS[:3])
    assert np.array_equal(a[0], b[0]) and all(np.array_equal(x, y) for x, y in zip(a[1], b[1], strict=True))


def _mapping_of(address: int) -> tuple[int, int] | None:
    """(size, resident bytes) of this process's memory mapping holding `address` (Linux /proc)."""
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0]
        if "-" in head and not head.endswith(":"):
            lo, hi = (int(x, 16) for x in head.split("-"))
            inside, size = lo <= address < hi, hi - lo
        elif inside and head == "Rss:":
            return size, int(line.split()[1]) * 1024
    return None


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux /proc/self/smaps")
def test_minilm_reads_its_whole_word_piece_table_at_load():
    """The table lives in a mapping of the weights file; a page not read at load was read at the first
    request with a word piece in it, so a server's memory grew for thousands of requests (RESULTS §8)."""
    from sashimi.model.minilm import MiniLM

    fresh = MiniLM()  # its own mapping: nothing of it read by another test yet
    found = _mapping_of(fresh._words.ctypes.data)
    assert found is not None
    size, resident = found
    assert size >= fresh._words.nbytes
    # every page in memory already but those of weights never read (the pooler's 0.6 MB); before: 41 of 87 MB
    assert resident >= size - 2 * 2**20, (resident, size)


def _texts_for_lexical() -> list[str]:
    texts = list(TEXTS) + [
        "",
        "   ",
        "Set a TIMER for 10  min!!",
        "tab\tsep\nnewline",
        "C++ & C#: build an app",
    ]
    examples = Path(__file__).resolve().parents[2] / "examples"
    texts += [p.read_text()[:300] for p in sorted(examples.glob("*.dsl"))]  # odd, code-like text
    from sashimi.data.ood import ood_base_prompts  # our own OOD prompts: varied wording

    texts += [p.text for p in ood_base_prompts(3, seed=0)]
    return texts


def test_fast_lexical_view_equals_scikit_learn():
    from sashimi.model.fast_lexical import fast_gate
    from sashimi.model.gate import load_gate

    gate = load_gate()
    assert gate.lexical is not None, "the shipped gate has a lexical view (else this test is moot)"
    fast = fast_gate(gate)
    texts = _texts_for_lexical()
    a, b = gate.lexical.transform(texts), fast.lexical.transform(texts)
    assert a.shape == b.shape
    assert np.abs(a - b).max() < 1e-12
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(len(texts), 384)).astype(np.float32)
    taps = None if gate.tap_layer is None else [rng.normal(size=(6, 384)).astype(np.float32) for _ in texts]
    assert np.array_equal(
        gate.scores(emb, texts, taps) >= gate.threshold, fast.scores(emb, texts, taps) >= fast.threshold
    )


@pytest.mark.parametrize(
    ("prompt", "needle"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("x" * 100_000, "too long"),
        ("y" * (MAX_REQUEST_CHARS + 1), "too long"),
        ("set a timer\x00\x01\x02", "binary or control"),
        ("\x89PNG\r\n\x1a\n\x00\x00", "binary or control"),
        ("😀🎉🔥", "no words"),
        ("!!! ??? 123", "no words"),
        ("设置一个十分钟的计时器", "not in English"),
        ("таймер на десять минут", "not in English"),
        ("set a timer\udcff", "not valid UTF-8"),
        (None, "must be text"),
    ],
)
def test_bad_requests_get_one_clear_line(prompt, needle):
    problem = request_problem(prompt)
    assert problem is not None and needle in problem
    assert "\n" not in problem and len(problem) < 200


@pytest.mark.parametrize(
    "prompt", ["set a timer for 10 minutes", "Café timer ☕ for 5 min", "x" * MAX_REQUEST_CHARS]
)
def test_ordinary_requests_pass_the_checks(prompt):
    assert request_problem(prompt) is None


def test_validity_line():
    assert "strict" in validity_line({"compiled_strict": True, "warnings": []})
    line = validity_line(
        {"compiled_strict": False, "compiled_permissive": True, "errors": ["x: y"], "warnings": ["w: v"]}
    )
    assert "permissive only" in line and "1 warning" in line
    assert "INVALID" in validity_line({"failed_stage": "parse", "error": "boom"})
