"""The domain gate: is a request something a Shortcut can do? (architecture.md §1, §3; plan EXP-1.2)

Three heads, fitted with scikit-learn and exported to plain arrays so that the shipped gate is numpy
arithmetic over a safetensors file plus JSON (no pickle):

- `linear`: logistic regression (the linear probe), score = sigmoid(x.w + b);
- `mlp`: two linear layers with a ReLU between them, score = sigmoid(relu(x W1 + b1) W2 + b2);
- `svm`: RBF support-vector machine, score = sigmoid(sum_i a_i exp(-g |x - s_i|^2) + b).

The heads read either the 384-d MiniLM embedding alone or, with a `LexicalView`, the embedding
concatenated with TF-IDF word (1-2) and character (3-5, within words) n-grams. The lexical view is a
deviation from architecture.md §3 (heads "on the embedding"): on templates the gate never saw, the
embedding alone ranks well (AUROC ~0.96-0.98) but cannot separate "do this on my phone" from "tell me
about my phone / write Android code" sharply enough for 99% precision, while platform words (Tasker,
PowerShell, SwiftUI, Zapier) and request shapes are strong, legitimate cues. Its vocabulary and idf
weights are stored as JSON and are fitted on prompts we generate ourselves only (our OOD templates and
our synthetic corpus), never on the external corpus, and hold n-grams that occur in several prompts, not
prompts.

A gate may also carry an adapter (`sashimi.model.gate_adapter`, issue 16): MiniLM's top layers with
LoRA adapters trained to tell OOD from in-domain; the decision then fuses the head's logit with the
adapter's, each z-scored (`Gate.logits`), and needs MiniLM's states after the layer the adapted layers
start from (`taps`; the generator's MiniLM returns them from its one pass). The shipped gate has one.

A score is "in-domain-ness" in [0, 1]; the gate accepts when score >= threshold. For the metrics, the
positive class is OOD (what the gate must catch): precision = refused prompts that really are OOD,
recall = OOD prompts refused, false-accept rate = OOD accepted, false-reject rate = in-domain refused.

The adopted gate lives in `sashimi/model/assets/gate/` (`gate.safetensors` + `gate.json` with the kind,
threshold, encoder id, and the decision and metrics that chose it).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load, save

from sashimi.errors import DataError, Location
from sashimi.io import atomic_write_bytes, read_json, write_json
from sashimi.model.chooser import unit_rows
from sashimi.model.encoder import Encoder, model_dir, model_id
from sashimi.model.gate_adapter import GateAdapter
from sashimi.model.spelling import Correction, correct_spelling

OUT_OF_DOMAIN = "out of domain: this does not look like something a Shortcut can do"
KINDS = ("linear", "mlp", "svm")  # simplest first: the adoption rule takes the first that meets the bar
ASSET_DIR = Path(__file__).parent / "assets" / "gate"
# TF-IDF settings of the lexical view; the vocabulary caps keep the MLP's first layer small.
LEXICAL_PARAMS = {
    "word": {"analyzer": "word", "ngram_range": (1, 2), "min_df": 2, "max_features": 2000},
    "char": {"analyzer": "char_wb", "ngram_range": (3, 5), "min_df": 3, "max_features": 4000},
}
# Norm of the lexical block beside the unit-norm embedding; 2.0 had the best out-of-fold F1 and recall
# at 99% precision among 0.5/1/2/3 in template-grouped cross-validation on the training templates.
LEXICAL_WEIGHT = 2.0
_ARRAYS = {"linear": ("w", "b"), "mlp": ("w1", "b1", "w2", "b2"), "svm": ("sv", "alpha", "b", "gamma")}
# The neighbour margin's weight on the head's logit (feature set "embedding+lexical+neighbours"): chosen by
# template-grouped 5-fold CV on the ood16 set among 2 / 5 / 10 / 20 / 40 (recall at 99 % precision 0.958
# against 0.871 without; RESULTS §9, "Nearest own prompts").
NEIGHBOUR_WEIGHT = 10.0
_NEIGHBOUR_ARRAYS = ("nb_in", "nb_ood")
_ADAPTER_PREFIX = "adapter."  # the adapter's arrays in gate.safetensors


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logits to scores in (0, 1), clipped so no exp overflows."""
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


@dataclass(frozen=True)
class LexicalView:
    """TF-IDF word and character n-grams over a fixed vocabulary, each block L2-normalised and scaled
    by `weight / sqrt(2)` so the lexical part has norm `weight` next to the unit-norm embedding."""

    vocab: dict  # {"word": [terms...], "char": [terms...]}, column order
    idf: dict  # {"word": np.ndarray, "char": np.ndarray}
    weight: float = 1.0
    _vectorizers: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def size(self) -> int:
        return sum(len(v) for v in self.vocab.values())

    @classmethod
    def fit(cls, texts: list[str], weight: float = LEXICAL_WEIGHT) -> LexicalView:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vocab, idf = {}, {}
        for name, params in LEXICAL_PARAMS.items():
            vec = TfidfVectorizer(sublinear_tf=True, **params).fit(texts)
            terms = vec.get_feature_names_out()
            vocab[name] = [str(t) for t in terms]
            idf[name] = np.asarray(vec.idf_, dtype=np.float64)
        return cls(vocab, idf, float(weight))

    def _vectorizer(self, name: str):
        if name not in self._vectorizers:
            from sklearn.feature_extraction.text import TfidfVectorizer

            params = {k: v for k, v in LEXICAL_PARAMS[name].items() if k not in ("min_df", "max_features")}
            vec = TfidfVectorizer(sublinear_tf=True, vocabulary=self.vocab[name], **params)
            vec.idf_ = np.asarray(self.idf[name], dtype=np.float64)  # a fixed, already-fitted vocabulary
            self._vectorizers[name] = vec
        return self._vectorizers[name]

    def transform(self, texts: list[str]) -> np.ndarray:
        blocks = [self._vectorizer(name).transform(list(texts)).toarray() for name in LEXICAL_PARAMS]
        return np.hstack(blocks) * (self.weight / np.sqrt(len(blocks)))

    def to_json(self) -> dict:
        return {
            "weight": self.weight,
            "vocab": self.vocab,
            "idf": {k: v.tolist() for k, v in self.idf.items()},
        }

    @classmethod
    def from_json(cls, obj) -> LexicalView:
        """From `to_json` output; a malformed object raises a DataError (the caller adds the file)."""
        try:
            vocab = {name: [str(t) for t in obj["vocab"][name]] for name in LEXICAL_PARAMS}
            idf = {name: np.asarray(obj["idf"][name], dtype=np.float64) for name in LEXICAL_PARAMS}
            weight = float(obj["weight"])
        except (KeyError, TypeError, ValueError) as err:
            raise DataError(f"malformed 'lexical' view in gate.json ({type(err).__name__}: {err})") from None
        for name in LEXICAL_PARAMS:
            if idf[name].shape != (len(vocab[name]),) or len(set(vocab[name])) != len(vocab[name]):
                raise DataError(f"malformed 'lexical' view in gate.json ({name} vocabulary and idf differ)")
        return cls(vocab, idf, weight)


# ------------------------------------------------------------------------------ degenerate input
#
# A request with no meaning (empty, whitespace, punctuation, keyboard mashing, random letters) must be
# refused for that reason, not scored: MiniLM maps any string somewhere, and the head then gives such
# strings middling in-domain scores (issue 16: "" scored 0.56, "asdkjh qwe zxcv" 0.64). "Meaning" is
# judged cheaply and independently of the head: the share of the request's words that are known words,
# where known = a whole-word entry of MiniLM's WordPiece vocabulary (~21.7 k English words) or a word of
# the gate's own lexical vocabulary (domain words such as "wifi", "dnd", "heic" that WordPiece splits).
# Typos do not trip it: the most misspelt request of the blind set still has a quarter of its words known.

_WORD = re.compile(r"[^\W\d_]+")  # runs of letters (any script)
# Device and app words WordPiece splits (and a lexical vocabulary fitted with a frequency cut may lack):
# one-word requests such as "wifi" or "flashlight" are terse, not meaningless.
DOMAIN_WORDS = frozenset(
    "wifi dnd heic airdrop airpods airplay carplay hotspot bluetooth flashlight iphone ipad ios macos siri "
    "icloud imessage facetime homekit spotify whatsapp telegram webhook url urls json csv pdf pdfs gif "
    "jpg jpeg png mp3 mp4 screenshot screenshots wallpaper playlist podcast podcasts todo timer alarm "
    "nfc vpn eta qr".split()
)
# A greeting, thanks or acknowledgement alone ("Hello", "Hey Siri!", "Good morning, how are you?",
# "Thanks", "ok") asks for nothing: the head scores such turns near the middle (people's chat, RESULTS §9:
# "Hello" 0.50 against the threshold 0.32) and the generator then builds a program from nothing. Only a
# text made of these words alone matches; one other word and the head decides.
_PLEASANTRY = re.compile(
    r"^(?:[\W_]*\b(?:hey|hi|hello|hiya|howdy|yo|greetings|good\s*(?:morning|afternoon|evening|night|day)"
    r"|how\s+are\s+(?:you|u|ya)(?:\s+doing)?(?:\s+today)?|how['’]?s\s+it\s+going|how\s+is\s+it\s+going"
    r"|how\s+do\s+you\s+do|what['’]?s\s+up|sup|thanks|thank\s+you(?:\s+(?:so|very)\s+much)?|thx|ty"
    r"|cheers|bye|goodbye|good\s*bye|see\s+you(?:\s+later)?|ok|okay|sure|yes|yeah|no|nope|please|pls|siri"
    r"|there|again|everyone|all|friend|buddy|mate)\b)+[\W_]*$",
    re.IGNORECASE,
)
MIN_KNOWN_SHARE = 0.2  # below this share of known words (with at least LONG_REQUEST words), no meaning
LONG_REQUEST = 8
NO_MEANING = "no meaning"


@lru_cache(maxsize=1)
def _wordpiece_words() -> frozenset[str]:
    """Whole words (letters only, 2+ characters) of the MiniLM tokenizer's vocabulary."""
    lines = (model_dir() / "vocab.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w for w in lines if len(w) >= 2 and w.isalpha() and not w.startswith("##"))


def meaningless_reason(text: str, extra_words: frozenset[str] = frozenset()) -> str | None:
    """Why `text` has no meaning as a request, or None when it has some. Cheap (no model call)."""
    if not text.strip():
        return f"{NO_MEANING}: the request is empty"
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return f"{NO_MEANING}: the request has no words"
    if not all(w.isascii() for w in words):
        return None  # another script: our vocabularies cannot judge it, so the head does
    known_words = _wordpiece_words()
    known = sum(
        1
        for w in words
        if (len(w) >= 2 or w in ("a", "i")) and (w in known_words or w in extra_words or w in DOMAIN_WORDS)
    )
    if known == 0:
        return f"{NO_MEANING}: none of its words is a known word"
    if len(words) >= LONG_REQUEST and known / len(words) < MIN_KNOWN_SHARE:
        return f"{NO_MEANING}: only {known} of its {len(words)} words are known words"
    return pleasantry_reason(text)


def pleasantry_reason(text: str) -> str | None:
    """Why `text` asks for nothing (a greeting, thanks or acknowledgement alone), or None. Checked on the
    request as written and again on what the head reads, so that a misspelt "Helo" is judged as "Hello"."""
    if _PLEASANTRY.match(text):
        return f"{NO_MEANING}: only a greeting or pleasantry, no request"
    return None


# ------------------------------------------------------------------------------ canonical request
#
# Address and politeness wrappers ("Hey Siri,", "Can you ...?", "... for me", "please", "right now") do
# not change what is asked, so the gate decides on the request without them: the same canonical form is
# used to fit the gate and to decide, which makes such wrappers unable to flip a decision (issue 16's
# metamorphic test) instead of hoping the training data taught the head to ignore them. Lower case is
# already invisible (MiniLM is uncased, the TF-IDF view lower-cases); typos are not handled here.

_LEAD = re.compile(
    r"^\s*(?:please\s+help\s+with\s+this\s*:|help\s+me\s+with\s+this(?:\s+one)?\s*:|just\s+one\s+thing\s*:"
    r"|i\s+want\s+to\s+ask\s+you\s+something\b|i\s+need\s+to\s+sort\s+something\s+out\b"
    r"|(?:hey|hi|hello|ok|okay)\s+siri\b|siri\b|hey there\b|hey\b|hi\b|hello\b|ok so\b|ok\b|okay\b"
    r"|please\b|pls\b|plz\b|kindly\b|quickly\b|just\b"
    r"|(?:can|could|would|will)\s+you\s+(?:please\s+)?(?:do|help\s+with|take\s+care\s+of)\s+(?:this|that)(?:\s+for\s+me)?\s*\?"
    r"|(?:can|could|would|will)\s+you\s+(?:please\s+)?(?=\w)"
    r"|i\s+need\s+you\s+to\b|i\s+want\s+you\s+to\b"
    r")[\s,.!:;-]*",
    re.IGNORECASE,
)
_TRAIL = re.compile(
    r"[\s,]*(?:please|pls|plz|for\s+me|right\s+now|thanks(?:\s+in\s+advance)?|thank\s+you|cheers)?[\s.!?]*$",
    re.IGNORECASE,
)


def canonical_request(text: str) -> str:
    """`text` without leading address/politeness wrappers, trailing politeness and final punctuation
    ("Hey Siri, can you turn on the flashlight for me, please?" -> "turn on the flashlight"). A text that
    would become empty is returned stripped but otherwise unchanged."""
    out = text.strip()
    for _ in range(4):  # wrappers stack ("Hey Siri, please can you ...")
        before = out
        out = _LEAD.sub("", out, count=1)
        out = _TRAIL.sub("", out, count=1)
        if out == before:
            break
    return out if out.strip() else text.strip()


@dataclass(frozen=True)
class GateDecision:
    accept: bool
    score: float  # in-domain score in [0, 1]; 0 for a request with no meaning (not scored)
    reason: str = ""  # why it was refused ("" when accepted)


@dataclass(frozen=True)
class Gate:
    kind: str
    arrays: dict[str, np.ndarray] = field(repr=False)
    threshold: float = 0.5
    meta: dict = field(default_factory=dict, repr=False)
    lexical: LexicalView | None = field(default=None, repr=False)
    # The encoder `decide` embeds raw texts with: a gate keeps one for its lifetime (one MiniLM load for
    # all requests). `load_gate` sets it; a gate fitted in memory has none and scores embeddings only.
    encoder: Encoder | None = field(default=None, repr=False, compare=False)
    # Whether the head was fitted on (and so decides on) `canonical_request` texts. Gates saved before
    # issue 16 lack the key in gate.json and load with False.
    canonical: bool = False
    # Neighbour margin: weight x (cosine to the nearest of our own in-domain training prompts - cosine to
    # the nearest of our own OOD ones) is added to the head's logit; 0 = none. The references ("nb_in",
    # "nb_ood": unit float16 embeddings) are of our own templates' prompts only, never of the external
    # corpus's (the data rule): `fit_gate` callers pass them, `gate_exp` leaves out "real/" rows.
    neighbour_weight: float = 0.0
    # Fine-tuned top encoder layers fused with the head (issue 16; `sashimi.model.gate_adapter`): the
    # decision reads the head's logit and the adapter's, each z-scored; None = the head alone.
    adapter: GateAdapter | None = field(default=None, repr=False)
    # Whether the models read the request with its misspelt words corrected (`sashimi.model.spelling`),
    # after `canonical_request`. Decision time only: the head and adapters were fitted on the texts as
    # written. Gates saved before the key existed load with False.
    spelling: bool = False

    def __post_init__(self) -> None:
        if self.kind not in _ARRAYS:
            raise DataError(f"unknown gate kind {self.kind!r} (expected one of {', '.join(KINDS)})")
        missing = [a for a in _ARRAYS[self.kind] if a not in self.arrays]
        if missing:
            raise DataError(f"{self.kind} gate lacks arrays {missing}")
        if not 0.0 <= self.threshold <= 1.0:
            raise DataError(f"gate threshold {self.threshold} outside [0, 1]")
        if self.lexical is not None and self.dim <= self.lexical.size:
            raise DataError(
                f"gate weights ({self.dim} inputs) do not fit its lexical view ({self.lexical.size})"
            )
        if isinstance(self.neighbour_weight, bool) or not isinstance(self.neighbour_weight, int | float):
            raise DataError(f"neighbour_weight must be a number, not {self.neighbour_weight!r}")
        if not isinstance(self.spelling, bool):
            raise DataError(f"'spelling' must be true or false, not {self.spelling!r}")
        if not 0.0 <= self.neighbour_weight < float("inf"):
            raise DataError(f"neighbour_weight {self.neighbour_weight} must be finite and >= 0")
        if self.neighbour_weight:
            for name in _NEIGHBOUR_ARRAYS:
                ref = self.arrays.get(name)
                if ref is None or ref.ndim != 2 or len(ref) == 0 or ref.shape[1] != self.embedding_dim:
                    raise DataError(
                        f"a gate with a neighbour margin needs '{name}' of shape (n >= 1, {self.embedding_dim})"
                    )

    @property
    def dim(self) -> int:
        first = {"linear": "w", "mlp": "w1", "svm": "sv"}[self.kind]
        return int(self.arrays[first].shape[0] if self.kind != "svm" else self.arrays[first].shape[1])

    @property
    def features_name(self) -> str:
        """What the decision reads, as `sashimi exp gate` names feature sets ("embedding+lexical+adapter")."""
        name = "embedding+lexical" if self.lexical is not None else "embedding"
        return name + ("+neighbours" if self.neighbour_weight else "") + ("+adapter" if self.adapter else "")

    @property
    def tap_layer(self) -> int | None:
        """Which MiniLM hidden states the gate's adapter reads (None: no adapter): `MiniLM(tap=...)`."""
        return self.adapter.first_layer if self.adapter is not None else None

    @property
    def embedding_dim(self) -> int:
        return self.dim - (self.lexical.size if self.lexical is not None else 0)

    def features(self, emb: np.ndarray, texts: list[str] | None = None) -> np.ndarray:
        """The head's input: the embeddings, plus the lexical view of `texts` when the gate has one."""
        x = np.asarray(emb, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.embedding_dim:
            raise DataError(f"gate expects embeddings of shape (n, {self.embedding_dim}), got {x.shape}")
        if self.lexical is None:
            return x
        if texts is None or len(texts) != len(x):
            raise DataError("this gate has a lexical view: scores() needs the texts beside their embeddings")
        return np.hstack([x, self.lexical.transform(list(texts))])

    def scores(
        self, emb: np.ndarray, texts: list[str] | None = None, taps: list[np.ndarray] | None = None
    ) -> np.ndarray:
        """In-domain scores in [0, 1] for embeddings of shape (n, 384) (and their texts, for a lexical
        gate; and MiniLM's states after layer `adapter.first_layer`, for a gate with an adapter)."""
        return sigmoid(self.logits(emb, texts, taps))

    def logits(
        self, emb: np.ndarray, texts: list[str] | None = None, taps: list[np.ndarray] | None = None
    ) -> np.ndarray:
        """The in-domain logits behind `scores`."""
        x = self.features(emb, texts)
        a = {k: v.astype(np.float64) for k, v in self.arrays.items() if k not in _NEIGHBOUR_ARRAYS}
        if self.kind == "linear":
            z = x @ a["w"] + a["b"][0]
        elif self.kind == "mlp":
            z = (np.maximum(x @ a["w1"] + a["b1"], 0.0) @ a["w2"] + a["b2"])[:, 0]
        else:
            sq = (x * x).sum(1)[:, None] + (a["sv"] * a["sv"]).sum(1)[None, :] - 2.0 * x @ a["sv"].T
            z = np.exp(-a["gamma"][0] * np.maximum(sq, 0.0)) @ a["alpha"] + a["b"][0]
        if self.neighbour_weight:
            z = z + self.neighbour_weight * self.neighbour_margin(emb)
        if self.adapter is not None:
            if taps is None or len(taps) != len(z):
                raise DataError(
                    f"this gate has an adapter: scores() needs MiniLM's states after layer "
                    f"{self.adapter.first_layer} for every request"
                )
            z = self.adapter.fused(z, taps)
        return z

    @cached_property
    def _references(self) -> tuple[np.ndarray, np.ndarray]:
        return tuple(self.arrays[name].astype(np.float32) for name in _NEIGHBOUR_ARRAYS)

    def neighbour_margin(self, emb: np.ndarray) -> np.ndarray:
        """(n,) cosine to the nearest own in-domain reference minus cosine to the nearest own OOD one."""
        e = unit_rows(np.asarray(emb, dtype=np.float32))
        nb_in, nb_ood = self._references
        return ((e @ nb_in.T).max(axis=1) - (e @ nb_ood.T).max(axis=1)).astype(np.float64)

    @cached_property  # computed once per gate (a frozen dataclass still has an instance __dict__)
    def known_words(self) -> frozenset[str]:
        """Domain words of the gate's lexical view (beside WordPiece's) that give a request meaning."""
        if self.lexical is None:
            return frozenset()
        return frozenset(t for t in self.lexical.vocab["word"] if " " not in t)

    @cached_property
    def spelling_words(self) -> frozenset[str]:
        """Words the spelling correction takes as known besides its dictionary's."""
        return _wordpiece_words() | self.known_words | DOMAIN_WORDS

    def read_request(self, text: str) -> tuple[str, list[Correction]]:
        """What the head reads of a request (its `canonical_request` form for a canonical gate, with its
        misspelt words corrected for a spelling gate), and the corrections made."""
        text = canonical_request(text) if self.canonical else text
        return correct_spelling(text, self.spelling_words) if self.spelling else (text, [])

    def request_text(self, text: str) -> str:
        """`read_request`'s text alone."""
        return self.read_request(text)[0]

    def check(self, text: str) -> tuple[str, list[Correction], str | None]:
        """A request's input checks with what the head reads of it: (read text, corrections, why the
        request has no meaning or None). A request with no meaning as written is not read; a read one
        is checked again for a greeting alone, so that a misspelt "Helo" is judged as "Hello"."""
        reason = meaningless_reason(text, self.known_words)
        if reason is not None:
            return text, [], reason
        read, corrections = self.read_request(text)
        return read, corrections, pleasantry_reason(read)

    def decide(self, texts: list[str]) -> list[GateDecision]:
        """Accept/refuse for raw texts: a request with no meaning is refused as such (score 0, not
        embedded); the others are embedded with the gate's own encoder and scored by the head."""
        if self.encoder is None:
            raise DataError("this gate has no encoder: load it with load_gate(), or use with_encoder()")
        checked = [self.check(t) for t in texts]
        reasons = [reason for _, _, reason in checked]
        todo = [i for i, r in enumerate(reasons) if r is None]
        scores = np.zeros(len(reasons))
        if todo:
            kept = [checked[i][0] for i in todo]
            taps = self.encoder.hidden_states(kept, self.adapter.first_layer) if self.adapter else None
            scores[todo] = self.scores(self.encoder.embed(kept), kept, taps)
        out = []
        for s, r in zip(scores, reasons, strict=True):
            if r is not None:
                out.append(GateDecision(False, 0.0, r))
            elif s >= self.threshold:
                out.append(GateDecision(True, float(s)))
            else:
                out.append(GateDecision(False, float(s), OUT_OF_DOMAIN))
        return out

    def with_encoder(self, encoder: Encoder) -> Gate:
        """The same gate, embedding raw texts with `encoder` in `decide`."""
        return replace(self, encoder=encoder)


# -------------------------------------------------------------------------------------- fitting


def fit_gate(
    kind: str,
    x: np.ndarray,
    in_domain: np.ndarray,
    *,
    seed: int = 0,
    threshold: float = 0.5,
    texts: list[str] | None = None,
    lexical: LexicalView | None = None,
    canonical: bool = False,
    neighbours: tuple[np.ndarray, np.ndarray] | None = None,
    neighbour_weight: float = NEIGHBOUR_WEIGHT,
) -> Gate:
    """Fit one head on embeddings `x` with labels `in_domain` (1 = in-domain, 0 = OOD).

    With a `lexical` view (fitted beforehand, on our own prompts), the head reads the embedding plus the
    view of `texts` (the prompts of `x`, in order). `canonical` records that `x` and `texts` are of
    `canonical_request` texts, so that `decide` canonicalises too. With `neighbours` = (in-domain, OOD)
    reference embeddings — our own prompts only: they ship inside the gate — the gate adds
    `neighbour_weight` x its neighbour margin to the head's logit (the head itself is fitted as without)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC

    y = np.asarray(in_domain).astype(int)
    if set(np.unique(y)) != {0, 1}:
        raise DataError("gate training data needs both in-domain and OOD prompts")
    x = np.asarray(x, dtype=np.float64)
    if lexical is not None:
        if texts is None or len(texts) != len(x):
            raise DataError("a lexical gate needs the texts of its training embeddings")
        x = np.hstack([x, lexical.transform(list(texts))])
    if kind == "linear":
        clf = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000, random_state=seed).fit(x, y)
        arrays = {"w": clf.coef_[0], "b": clf.intercept_}
    elif kind == "mlp":
        clf = MLPClassifier(
            hidden_layer_sizes=(128,), alpha=1e-3, max_iter=300, early_stopping=False, random_state=seed
        ).fit(x, y)
        arrays = {
            "w1": clf.coefs_[0],
            "b1": clf.intercepts_[0],
            "w2": clf.coefs_[1],
            "b2": clf.intercepts_[1],
        }
    elif kind == "svm":
        gamma = 1.0 / (x.shape[1] * x.var())  # sklearn's "scale", computed here so it can be exported
        clf = SVC(kernel="rbf", C=10.0, gamma=gamma, class_weight="balanced", random_state=seed).fit(x, y)
        arrays = {
            "sv": clf.support_vectors_,
            "alpha": clf.dual_coef_[0],
            "b": clf.intercept_,
            "gamma": np.array([gamma]),
        }
    else:
        raise DataError(f"unknown gate kind {kind!r} (expected one of {', '.join(KINDS)})")
    arrays = {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}
    if neighbours is not None:
        for name, ref in zip(_NEIGHBOUR_ARRAYS, neighbours, strict=True):
            arrays[name] = unit_rows(np.asarray(ref, dtype=np.float32)).astype(np.float16)  # half the size
    return Gate(
        kind,
        arrays,
        threshold,
        lexical=lexical,
        canonical=canonical,
        neighbour_weight=float(neighbour_weight) if neighbours is not None else 0.0,
    )


# -------------------------------------------------------------------------------------- storage


def save_gate(gate: Gate, directory: str | os.PathLike, info: dict | None = None) -> Path:
    """Write `gate.safetensors` and `gate.json` (kind, threshold, encoder, `info`) atomically."""
    directory = Path(directory)
    arrays = dict(gate.arrays)
    if gate.adapter is not None:
        arrays.update({_ADAPTER_PREFIX + k: v for k, v in gate.adapter.arrays.items()})
    atomic_write_bytes(directory / "gate.safetensors", save({k: np.ascontiguousarray(v) for k, v in arrays.items()}))
    meta = {"kind": gate.kind, "threshold": gate.threshold, "encoder": model_id(), **(info or {})}
    meta["features"] = gate.features_name
    meta["canonical"] = gate.canonical
    meta["neighbour_weight"] = gate.neighbour_weight
    meta["spelling"] = gate.spelling
    if gate.adapter is not None:
        meta["adapter"] = gate.adapter.to_json()
    if gate.lexical is not None:
        meta["lexical"] = gate.lexical.to_json()
    write_json(directory / "gate.json", meta)
    return directory


def load_gate(directory: str | os.PathLike | None = None, *, encoder: Encoder | None = None) -> Gate:
    """Load a saved gate (default: the one shipped in the package) with the encoder it keeps for
    `decide` (default: a new cached MiniLM `Encoder()`, whose model loads at the first call). Bad files
    raise one-line DataErrors."""
    directory = Path(directory) if directory is not None else ASSET_DIR
    meta_path, weights_path = directory / "gate.json", directory / "gate.safetensors"
    if not meta_path.is_file() or not weights_path.is_file():
        raise DataError("no gate here (expected gate.json and gate.safetensors)", Location(str(directory)))
    meta = read_json(meta_path)
    if not isinstance(meta, dict) or not isinstance(meta.get("kind"), str):
        raise DataError("gate.json needs an object with a 'kind'", Location(str(meta_path)))
    try:
        arrays = load(weights_path.read_bytes())
    except (SafetensorError, OSError, ValueError) as err:
        raise DataError(
            f"unreadable gate weights: {err}".splitlines()[0], Location(str(weights_path))
        ) from None
    try:
        threshold = float(meta.get("threshold", 0.5))
    except (TypeError, ValueError):
        raise DataError("threshold must be a number", Location(str(meta_path))) from None
    try:
        lexical = LexicalView.from_json(meta["lexical"]) if meta.get("lexical") is not None else None
        canonical = meta.get("canonical", False)
        if not isinstance(canonical, bool):
            raise DataError("'canonical' must be true or false")
        spelling = meta.get("spelling", False)  # gates saved before the spelling correction have none
        weight = meta.get("neighbour_weight", 0.0)  # gates saved before the neighbour margin have none
        adapter = None
        if meta.get("adapter") is not None:  # gates saved before issue 16's adapters have none
            own = {k.removeprefix(_ADAPTER_PREFIX): v for k, v in arrays.items() if k.startswith(_ADAPTER_PREFIX)}
            adapter = GateAdapter.from_json(meta["adapter"], own)
        arrays = {k: v for k, v in arrays.items() if not k.startswith(_ADAPTER_PREFIX)}
        gate = Gate(
            meta["kind"], arrays, threshold, meta, lexical, encoder or Encoder(), canonical, weight, adapter, spelling
        )
    except DataError as err:
        raise err.with_file(str(meta_path)) from None
    return gate
