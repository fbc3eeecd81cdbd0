"""Request -> Shortcut: the whole inference path behind `sashimi generate` (architecture.md §1).

    request ─► checks (empty, too long, binary, no words, not English script) ─► one-line reason
            ─► MiniLM (one forward pass: pooled vector + token states)            [encode]
               (+ a run's trainable prompt encoder: fine-tuned top layers / scratch) [encode]
            ─► domain gate (shipped gate, frozen MiniLM embedding) ─► refused    [gate]
            ─► decoder memory + constrained greedy/beam search                   [decode]
            ─► value filler: Tier 3 literals                                     [fill]
            ─► ProgramConstraint.to_typed ─► lowering ─► DSL text                [lower]
            ─► parse ─► validate strict/permissive ─► compile ─► binary plist    [compile]

A dsl_text model (plan 4.1.5, `model.output_target: dsl_text`) replaces decode..lower: unconstrained
greedy/beam search over text tokens until `<EOS>` (or max_len: cut, reported as truncated), detokenise
[decode], then lint → parse → validate → compile [compile], exactly as a text model is used: the
linter's repairs are listed in the validity record (`lint_repairs`, and as warnings), a failure stays a
failure, and `dsl` is the model's raw text (the evaluation lints it again and counts the repairs).

One `Generator` holds one MiniLM, the gate and the model, loaded once (a server shares it). The program
is the model's own: the toolchain runs without the linter's repairs, and its verdict (strict /
permissive, warnings) is reported as is, never replaced by another program.

The MiniLM here is `sashimi.model.minilm.MiniLM` (plain torch, same numbers as the training encoder)
and the gate's lexical view is `fast_lexical` (same numbers as scikit-learn): importing
sentence-transformers and scikit-learn would cost ~7 s of a cold command. Nothing is cached: every
request is encoded afresh, so `ms` is a user's real latency.
"""

from __future__ import annotations

import os
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sashimi.errors import DataError, Location
from sashimi.model.catalogs import model_catalog
from sashimi.model.constraints import DEFAULT_CLOSE_BIAS, DEFAULT_MAX_ACTION_COUNT
from sashimi.model.text_target import DSL_TEXT, TextConstraint, split_eos

DEFAULT_MODEL_DIR = Path(__file__).parent / "assets" / "default"
MAX_REQUEST_CHARS = 2000  # a Shortcut request is a sentence or a paragraph; MiniLM reads 256 word pieces
STAGES = ("encode", "gate", "decode", "choose", "fill", "lower", "compile")
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


@dataclass
class Generation:
    accepted: bool  # the request passed the checks and the gate (False: `reason` says why not)
    reason: str  # one line; "" when accepted and a program was produced
    dsl: str  # the program text ("" when refused)
    validity: dict  # toolchain verdict: parsed, strict, permissive, compiled_*, warnings, errors
    shortcut: bytes | None  # binary plist, when it compiled
    ms: float  # end-to-end wall time of this request
    stages: dict  # per-stage wall time in ms (keys from STAGES, those that ran)
    gate_score: float | None = None  # in-domain score of the gate (None: rejected before the gate)
    rejected_by: str | None = None  # "request" (failed the input checks) | "gate" | None (accepted)
    name: str = ""  # the shortcut's name (SHORTCUT "...")
    tokens: int = (
        0  # tokens the decoder emitted: Tier 1 + 2 (Tier 3 slot markers included); text: BPE + <EOS>
    )
    # where the program's Tier 1 + 2 came from: "decoder", or "neighbour R of K (cosine C)" when the
    # neighbour chooser preferred the R-th retrieved training program (its values are still this request's)
    source: str = "decoder"
    # the request as the models read it when the gate's spelling correction changed a word ("" when not):
    # the value filler still copies from the request as written
    read_as: str = ""

    @property
    def ok(self) -> bool:
        """Accepted and compiled (strict or permissive)."""
        return self.accepted and self.shortcut is not None

    def to_json(self) -> dict:
        return {
            "accepted": self.accepted,
            "rejected_by": self.rejected_by,
            "reason": self.reason,
            "dsl": self.dsl,
            "name": self.name,
            "validity": self.validity,
            "gate_score": None if self.gate_score is None else round(self.gate_score, 4),
            "tokens": self.tokens,
            "source": self.source,
            "read_as": self.read_as,
            "ms": round(self.ms, 3),
            "stages": {k: round(v, 3) for k, v in self.stages.items()},
        }


def request_problem(prompt: Any) -> str | None:
    """Why a request cannot be handled at all (before any model runs), or None when it can."""
    if not isinstance(prompt, str):
        return f"the request must be text, not {type(prompt).__name__}"
    if any(0xD800 <= ord(c) <= 0xDFFF for c in prompt):  # surrogateescape'd bytes from argv / stdin
        return "the request is not valid UTF-8 text"
    if not prompt.strip():
        return "the request is empty: describe what the Shortcut should do"
    if len(prompt) > MAX_REQUEST_CHARS:
        return (
            f"the request is too long ({len(prompt):,} characters; the limit is {MAX_REQUEST_CHARS:,}): "
            "describe the Shortcut in a few sentences"
        )
    bad = [
        c
        for c in prompt
        if unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") and c not in _ALLOWED_CONTROLS
    ]
    if bad:
        return (
            f"the request contains binary or control characters (e.g. U+{ord(bad[0]):04X}); send plain text"
        )
    letters = [c for c in prompt if unicodedata.category(c)[0] == "L"]
    if not letters:
        return "the request has no words (only symbols, emoji, digits or punctuation): describe the Shortcut in words"
    latin = sum(1 for c in letters if c.isascii() or "LATIN" in unicodedata.name(c, ""))
    if latin < 0.5 * len(letters):
        return "the request is not in English: the model reads English requests only"
    return None


def validity_of(result) -> dict:
    """The toolchain verdict of a `PipelineResult`, as plain JSON."""
    return {
        "parsed": result.parsed,
        "strict": result.strict_valid,
        "permissive": result.permissive_valid,
        "compiled_strict": result.compiled_strict,
        "compiled_permissive": result.compiled_permissive,
        "warnings": [f"{w.category}: {w.message}" for w in result.warnings],
        "errors": [f"{e.category}: {e.message}" for e in (result.strict_errors or result.permissive_errors)],
        "failed_stage": result.failed_stage,
        "error": result.error,
    }


def validity_line(validity: dict) -> str:
    """One human line: strict / permissive-only / invalid, plus warnings."""
    if not validity:
        return "validity: -"
    if validity.get("compiled_strict"):
        head = "valid (strict): parses, validates and compiles against the catalog"
    elif validity.get("compiled_permissive"):
        head = "valid (permissive only): " + (validity.get("errors") or ["-"])[0]
    else:
        head = f"INVALID at {validity.get('failed_stage')}: {validity.get('error')}"
    warnings = validity.get("warnings") or []
    if warnings:
        head += f"; {len(warnings)} warning(s): " + " | ".join(warnings[:3])
    return "validity: " + head


def prediction_record(rid: str, prompt: str, gen: Generation) -> dict:
    """One line of the evaluation harness's predictions format, as `sashimi generate --input` writes it."""
    obj = gen.to_json()
    return {
        "id": rid,
        "prompt": prompt,
        "dsl": obj.pop("dsl"),
        "accepted": obj.pop("accepted"),
        "ms": obj.pop("ms"),
        **obj,
    }


def text_verdict(dsl: str, catalog, *, truncated: bool = False):
    """(PipelineResult, validity JSON) of a text model's raw program: lint → parse → validate → compile.

    Every lint repair is listed (`lint_repairs`; the pipeline also makes each one a warning) and the
    text that was parsed is kept beside the raw one when the linter changed it; a failure is reported
    at its stage with its error, never replaced."""
    from sashimi.dsl.pipeline import run_pipeline

    checked = run_pipeline(dsl, catalog, file="<generated>", do_lint=True)
    validity = validity_of(checked)
    validity["linted"] = True
    validity["lint_repairs"] = [
        f"line {c.line} {c.kind}: {c.original!r} -> {c.replacement!r}" for c in checked.repairs
    ]
    validity["truncated"] = truncated  # reached max_len without <EOS>: the text is cut there
    if checked.repairs:
        validity["linted_dsl"] = checked.linted_text  # what was parsed and compiled
    return checked, validity


def _failed(done, score: float, stage: str, verb: str, err: Exception) -> Generation:
    """An accepted request whose program failed at `stage`: the first line of the error, never hidden."""
    return done(
        accepted=True,
        gate_score=score,
        reason=f"{verb} failed: {err}".splitlines()[0],
        validity={"failed_stage": stage, "error": str(err).splitlines()[0]},
    )


def _compiled(done, score: float, dsl: str, checked, validity: dict, reason: str, **extra) -> Generation:
    """An accepted request's program after the toolchain (`checked`: its PipelineResult), compiled or not."""
    return done(
        accepted=True,
        gate_score=score,
        reason=reason,
        dsl=dsl,
        validity=validity,
        shortcut=checked.shortcut_bytes,
        name=checked.ir.name if checked.ir is not None else "",
        **extra,
    )


class _Timer:
    """One request's clock: `lap(stage)` records the time since the last lap, `done(**fields)` builds its
    `Generation` with the total."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.stages: dict[str, float] = {}
        self.read_as = ""  # set when the models read a spelling-corrected request

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.stages[name] = (now - self.last) * 1000.0
        self.last = now

    def credit(self, ms: float) -> None:
        """The next lap counts `ms` up to now (a stage run for several requests at once)."""
        self.last = time.perf_counter() - ms / 1000.0

    def done(self, **kw) -> Generation:
        kw.setdefault("validity", {})
        kw.setdefault("shortcut", None)
        kw.setdefault("dsl", "")
        kw.setdefault("read_as", self.read_as)
        return Generation(ms=(time.perf_counter() - self.start) * 1000.0, stages=self.stages, **kw)


class Generator:
    """One MiniLM, the domain gate and the generator model, loaded once."""

    def __init__(
        self,
        model,
        *,
        gate=None,
        encoder=None,
        catalog=None,
        model_dir: Path | None = None,
        max_action_count: int | None = DEFAULT_MAX_ACTION_COUNT,
        close_bias: float = DEFAULT_CLOSE_BIAS,
    ) -> None:
        """The search may emit one action at most `max_action_count` times in a program
        (`constraints.RepetitionCap`; None: no cap, the plain program constraint), and adds `close_bias`
        to the logits of the tokens that close a block or the program (`search.closing_bias`)."""
        import torch

        from sashimi.model.constraints import ProgramConstraint, RepetitionCap
        from sashimi.model.fast_lexical import fast_gate
        from sashimi.model.gate import load_gate
        from sashimi.model.minilm import MiniLM
        from sashimi.model.onnx_step import decoder_stepper
        from sashimi.model.search import closing_bias

        # One intra-op thread: batch-1 matrices are too small to split, and on a shared 2-core machine a
        # second thread waiting for a busy core made a decoder step 50x slower (measured).
        threads = int(os.environ.get("SASHIMI_THREADS", "1"))
        torch.set_num_threads(threads)
        # numpy's BLAS too (the numpy decoder step, retrieval, chooser): its idle threads spin, and a
        # product over a batch of rows (`generate_batch`) on two threads of a busy machine was 7x slower
        from threadpoolctl import threadpool_limits  # (a scikit-learn dependency; 9 ms to import)

        threadpool_limits(threads)
        self.model = model  # checkpoint.LoadedModel (from a run folder or a packed export)
        self.model_dir = model_dir
        self.gate = fast_gate(gate if gate is not None else load_gate())
        if self.gate.adapter is not None:
            self.gate.adapter.prepare()  # at load, with the thread count set above: not in a request
        if encoder is None:
            # the precision the model declares, unless $SASHIMI_ENCODER_PRECISION (read by MiniLM) says
            # otherwise or the torch forward pass is asked for (the float32 reference: no 8-bit graph)
            overridden = os.environ.get("SASHIMI_ENCODER_PRECISION") or os.environ.get("SASHIMI_ENCODER_BACKEND") == "torch"
            encoder = MiniLM(
                precision=None if overridden else getattr(model, "encoder_precision", None),
                tap=self.gate.tap_layer,  # a gate with adapters reads states of this pass
            )
        self.encoder = encoder
        self.catalog = catalog if catalog is not None else model_catalog(model, model_dir or Path("."))
        self.text = getattr(model, "text", None)  # the BPE of a dsl_text model (None: typed IR)
        self.bias = None  # logit bias of the search (typed IR: closing_bias below)
        if model.decoder.cfg.output_target == DSL_TEXT:
            if self.text is None:
                raise DataError(
                    "this dsl_text model has no text tokenizer (tokenizer.json)", Location(str(model_dir))
                )
            self.stepper = decoder_stepper(model.decoder)
            self.constraint = TextConstraint(model.decoder.cfg.vocab_size, int(model.decoder.cfg.max_len))
            self.search_constraint = self.constraint  # text: no action identities to cap
            return
        if model.filler is None:
            raise DataError("this model has no value filler (filler/ folder)", Location(str(model_dir)))
        # decoder.step as one onnxruntime call (SASHIMI_DECODER_BACKEND=numpy: in numpy), the same programs
        # as torch's step: ~0.2 ms per step at batch 1 (numpy ~0.5, torch ~0.8; RESULTS §7.8, §8); logits
        # padded to an extended token table
        self.stepper = decoder_stepper(model.decoder, out_size=len(model.table))
        max_len = int(model.decoder.cfg.max_len)
        if model.chooser is not None:  # it chooses among whole programs of the index
            index = model.retrieval
            if index is None or index.tokens.shape[1] < max_len:
                raise DataError(
                    "this model's neighbour chooser needs a whole-program retrieval index "
                    "(rebuild both with `sashimi fit-chooser`)",
                    Location(str(model_dir or ".")),
                )
        self.constraint = ProgramConstraint(model.vocab, model.table, max_len=max_len, catalog=self.catalog)
        self.search_constraint = (
            self.constraint if max_action_count is None else RepetitionCap(self.constraint, max_action_count)
        )
        self.bias = closing_bias(model.table.tokens, close_bias)
        self._accepted: dict[
            int, tuple[int, ...] | None
        ] = {}  # index row -> its program if the mask accepts it

    @classmethod
    def load(cls, model_dir: str | os.PathLike | None = None, **options) -> Generator:
        """A run folder of `sashimi train`, a packed export of `sashimi export`, or None = shipped default."""
        from sashimi.model.export import is_packed, load_packed

        directory = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
        if not directory.is_dir():
            what = "the shipped default model is missing" if model_dir is None else "model folder not found"
            raise DataError(what, Location(str(directory)))
        if is_packed(directory):
            model = load_packed(directory)
        else:
            from sashimi.model.checkpoint import load_run

            model = load_run(directory)
        return cls(model, model_dir=directory, **options)  # options: max_action_count, close_bias

    def preload(self) -> None:
        """Load now what a request would otherwise load on first use (the spelling correction's word
        list, ~0.3 s): a server does, so that no request pays for it; a one-shot CLI call does not."""
        if self.gate.spelling:
            from sashimi.model.spelling import preload

            preload()

    # -- one request ----------------------------------------------------------------------------------

    def generate(self, prompt: str, *, beam: int = 1) -> Generation:
        timer = _Timer()
        front = self._front(prompt, timer)
        if isinstance(front, Generation):
            return front
        return self._program(prompt, *front, beam, timer.done, timer.lap)

    def generate_batch(self, prompts: Sequence[str], *, beam: int = 1) -> list[Generation]:
        """`generate` for several requests at once (a server's waiting requests): each is checked on its
        own, the ones that pass are encoded in one MiniLM pass (`MiniLM.encode_together`) and gated each
        on its own, then the accepted ones are decoded together by `search.greedy_batch`, one decoder
        step per position for all of them, and each is filled and compiled on its own.

        A decoder step at batch 1 is mostly per-call overhead (~0.5 ms for a 2-layer d=128 decoder), so
        eight requests decode in about twice the time of one (RESULTS §8). The logits agree with a
        batch-1 step to float32 rounding (a product over B rows sums in another order), so a program can
        differ from `generate`'s only where two tokens tie to that precision (measured: RESULTS §8).
        Beam search, dsl_text models, models with a trainable prompt encoder and a neighbour chooser that
        decodes only without a candidate are generated one request at a time, exactly as `generate`.
        The encoder's states agree with a lone pass to float32 rounding too (measured: RESULTS §8).
        Each `Generation.ms` runs from the start of its own checks to its own answer; its `encode` and
        `decode` stages are the shared batch passes."""
        if (
            len(prompts) < 2
            or beam != 1
            or self.text is not None
            or self.model.decoder.prompt_encoder is not None
            or (self.model.chooser is not None and not self.model.chooser.config.include_decoder)
        ):
            return [self.generate(p, beam=beam) for p in prompts]
        import numpy as np

        from sashimi.model.search import SearchError, greedy_batch

        timers = [_Timer() for _ in prompts]
        out: list[Generation | None] = [None] * len(prompts)
        fronts: dict[int, tuple] = {}
        texts: dict[int, str] = {}
        for i, prompt in enumerate(prompts):
            text = self._checked_text(prompt, timers[i])
            if isinstance(text, Generation):
                out[i] = text
            else:
                texts[i] = text
        started = time.perf_counter()
        pooled, states, taps = self._encode(list(texts.values()), together=True) if texts else (None, [], None)
        shared_ms = (time.perf_counter() - started) * 1000.0
        for k, (i, text) in enumerate(texts.items()):
            timers[i].credit(shared_ms)  # the next lap ("encode") is the shared encoder pass
            tap = None if taps is None else [taps[k]]
            front = self._front(prompts[i], timers[i], encoded=(text, pooled[k : k + 1], [states[k]], tap))
            if isinstance(front, Generation):
                out[i] = front
            else:
                fronts[i] = front
        if fronts:
            rows = list(fronts)
            started = time.perf_counter()
            try:
                memory = self.model.memory(
                    np.concatenate([fronts[i][1] for i in rows]), [fronts[i][2][0] for i in rows]
                )
                found = greedy_batch(self.stepper, memory, self.search_constraint, bias=self.bias)
            except (SearchError, ValueError) as err:  # a defect of the whole batch, reported on each
                found = [err] * len(rows)
            shared_ms = (time.perf_counter() - started) * 1000.0
            for i, searched in zip(rows, found, strict=True):
                timers[i].credit(shared_ms)  # the next lap ("decode") is the shared decode
                out[i] = self._program(prompts[i], *fronts[i], 1, timers[i].done, timers[i].lap, searched=searched)
        return out  # type: ignore[return-value]

    def _encode(self, texts: list[str], together: bool = False) -> tuple:
        """(pooled, states, taps): the encoder's pass over `texts` (`together`: one shared pass where the
        encoder has one), and for a gate with adapters the states they read (None without), tapped from
        that pass when the encoder is a MiniLM tapping that layer, else a second pass."""
        adapter = self.gate.adapter
        if adapter is None:
            encode = getattr(self.encoder, "encode_together", self.encoder.encode) if together else self.encoder.encode
            return (*encode(texts), None)
        if getattr(self.encoder, "tap", None) == adapter.first_layer:
            return (self.encoder.encode_together_with_tap if together else self.encoder.encode_with_tap)(texts)
        pooled, states = self.encoder.encode(texts)
        return pooled, states, self.encoder.hidden_states(texts, adapter.first_layer)

    def _checked_text(self, prompt: str, timer: _Timer) -> Generation | str:
        """The input checks: a refused request's `Generation`, or the text the models read."""
        problem = request_problem(prompt)
        if problem is not None:
            return timer.done(accepted=False, reason=problem, rejected_by="request")
        # The gate decides as `sashimi gate` does (`Gate.decide`, what its figures measure): a request
        # with no meaning is refused before any model runs, and a canonical gate reads the request
        # without its address and politeness wrappers. The models read that same text (one encoder
        # pass); the value filler reads the request as written.
        text, corrections, meaningless = self.gate.check(prompt)
        if corrections:
            timer.read_as = text
        if meaningless is not None:
            return timer.done(accepted=False, rejected_by="gate", gate_score=0.0, reason=f"refused: {meaningless}")
        return text

    def _front(self, prompt: str, timer: _Timer, encoded: tuple | None = None) -> Generation | tuple:
        """Checks, encoder and gate: a refused request's `Generation`, or what the model needs for an
        accepted one (text, pooled, states, enc_inputs, gate score). `encoded`: (text, pooled (1, 384),
        states, the gate adapter's input states or None) when a batch has already checked and encoded the
        request."""
        done, lap = timer.done, timer.lap
        if encoded is None:
            text = self._checked_text(prompt, timer)
            if isinstance(text, Generation):
                return text
            pooled, states, taps = self._encode([text])
        else:
            text, pooled, states, taps = encoded
        enc_inputs = None
        if self.model.decoder.prompt_encoder is not None:  # the run's own encoder reads the prompt too
            from sashimi.model.prompt_encoder import prompt_inputs  # torch: imported when a model needs it

            enc_inputs = prompt_inputs(self.model.decoder.prompt_encoder, [text], self.encoder)
        lap("encode")
        score = float(self.gate.scores(pooled, [text], taps)[0])
        lap("gate")
        if score < self.gate.threshold:
            return done(
                accepted=False,
                rejected_by="gate",
                gate_score=score,
                reason=(
                    "refused: this does not look like something a Shortcut can do "
                    f"(domain gate score {score:.3f} < threshold {self.gate.threshold:.3f})"
                ),
            )
        return text, pooled, states, enc_inputs, score

    def _program(
        self, prompt, text, pooled, states, enc_inputs, score, beam, done, lap, *, searched=None
    ) -> Generation:
        """`prompt` as written (the value filler copies from it); `text` what the encoder read;
        `searched`: the decoder's search result (or its error) when a batch already ran it."""
        if self.text is not None:
            return self._program_text(pooled, states, enc_inputs, beam, score, done, lap)  # never batched
        from sashimi.dsl.pipeline import run_pipeline
        from sashimi.ir.lowering import lower_to_text
        from sashimi.model.search import SearchError

        model = self.model
        # with a chooser that leaves the decoder's program out, the decoder runs only when no retrieved
        # program is a candidate (none the mask accepts); a stage that did not run records ~0 ms
        chooser = model.chooser
        neighbours_only = chooser is not None and not chooser.config.include_decoder
        decoded: tuple[int, ...] = ()
        choice = None
        if neighbours_only:
            choice = self._choose(text, pooled, decoded)
            lap("choose")
        if choice is None:
            if searched is None:
                try:
                    searched = self._search(pooled, states, enc_inputs, beam)
                except (SearchError, ValueError) as err:  # a defect, reported on this request, never hidden
                    searched = err
            if isinstance(searched, Exception):
                lap("decode")
                return _failed(done, score, "decode", "decoding", searched)
            decoded = searched.token_ids
        lap("decode")
        if not neighbours_only:
            if chooser is not None:
                choice = self._choose(text, pooled, decoded)
            lap("choose")
        token_ids, source = choice if choice is not None else (decoded, "decoder")
        n_tokens = len(decoded)
        tokens = [model.table.tokens[i] for i in token_ids]
        slots, var_names = model.filler.fill(prompt, tokens)
        lap("fill")
        try:
            typed = self.constraint.to_typed(token_ids, slots, var_names)
            dsl = lower_to_text(typed)
        except (DataError, ValueError) as err:
            lap("lower")
            return _failed(done, score, "lower", "lowering", err)
        lap("lower")
        checked = run_pipeline(dsl, self.catalog, file="<generated>", do_lint=False)
        lap("compile")
        reason = (
            "" if checked.shortcut_bytes is not None else f"the program does not compile: {checked.error}"
        )
        return _compiled(
            done, score, dsl, checked, validity_of(checked), reason, tokens=n_tokens, source=source
        )

    def _choose(self, prompt: str, pooled, decoded: tuple[int, ...]) -> tuple[tuple[int, ...], str] | None:
        """(token ids, source) of the neighbour chooser's pick among the retrieved programs and the decoded
        one (`decoded`, when not empty; model/chooser.py); None without a chooser or a candidate."""
        chooser, index = self.model.chooser, self.model.retrieval
        if chooser is None or index is None:
            return None
        from sashimi.model.chooser import Candidate

        k = chooser.config.k
        rows = index.neighbours(pooled, k)[0]
        candidates = [Candidate(tuple(decoded), "decoder", -1, None)] if decoded else []
        for rank, row in enumerate(rows):
            if row < 0:
                break
            ids = self._indexed_program(int(row))
            if ids is not None:
                cosine = float(index.embeddings[row] @ pooled[0])
                candidates.append(Candidate(ids, "neighbour", rank, cosine))
        if not candidates:
            return None
        choice = chooser.choose(chooser.model.probs(pooled, [prompt])[0], candidates)
        c = choice.candidate
        if c.source == "decoder":
            return c.token_ids, "decoder"
        return c.token_ids, f"neighbour {c.rank + 1} of {k} (cosine {c.cosine:.3f})"

    def _indexed_program(self, row: int) -> tuple[int, ...] | None:
        """Row `row` of the index as a token sequence, or None when the decoding mask would not accept
        it (only programs the mask could have produced are candidates). Memoised: the index is fixed,
        and replaying the mask over 50 programs per request cost more than the rest of the choice."""
        if row not in self._accepted:
            ids = tuple(int(t) for t in self.model.retrieval.tokens[row] if t != 0)  # PAD = 0 only after
            self._accepted[row] = ids if self.constraint.accepts(ids) else None
        return self._accepted[row]

    def _search(self, pooled, states, enc_inputs, beam: int):
        """The decoder memory of one request, then greedy / beam search under this model's constraint."""
        from sashimi.model.search import search

        memory = self.model.memory(pooled, states, enc_inputs)
        return search(self.stepper, memory, self.search_constraint, beam=beam, bias=self.bias)

    def _program_text(self, pooled, states, enc_inputs, beam, score, done, lap) -> Generation:
        """dsl_text: unconstrained search, detokenise, then the toolchain with the linter."""
        from sashimi.model.search import SearchError

        try:
            result = self._search(pooled, states, enc_inputs, beam)
        except (SearchError, ValueError) as err:  # a defect, reported on this request, never hidden
            lap("decode")
            return _failed(done, score, "decode", "decoding", err)
        ids, ended = split_eos(result.token_ids)
        dsl = self.text.decode(ids)
        lap("decode")
        checked, validity = text_verdict(dsl, self.catalog, truncated=not ended)
        lap("compile")
        reason = ""
        if checked.shortcut_bytes is None:
            reason = f"the program does not compile: {checked.error}"
            if not ended:
                reason += f" (text cut at max_len {self.constraint.max_len} tokens, no <EOS>)"
        return _compiled(done, score, dsl, checked, validity, reason, tokens=len(result.token_ids))


__all__ = [
    "DEFAULT_MODEL_DIR",
    "Generation",
    "Generator",
    "request_problem",
    "text_verdict",
    "validity_line",
    "validity_of",
]
