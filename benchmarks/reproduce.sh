#!/usr/bin/env bash
# Reproduces every figure in docs/RESULTS.md and docs/DATA.md. Needs ../shared (the external corpus,
# read by path, never copied). CPU only; about 15-25 minutes on a 2-core machine for the first steps, most of it the
# first (uncached) MiniLM encoding; gate-study, gate-heldout and gate-heldout6 fine-tune MiniLM layers (~25, ~40, ~70 min),
# gate16 cross-validates the shipped adapter gate (30 adapter trainings, ~100 min; resumable).
# Usage: bash benchmarks/reproduce.sh [OUT_DIR] [STEP ...]
# Steps: toolchain typed-ir synth negatives ood encoder toy gate gate16 gate-study gate-heldout gate-heldout6
# evaluate-baselines filler (default: all, in order), and gate-ship (not in the default list): re-make the
# shipped gate in src/sashimi/model/assets/gate/ (then run gate16 to check it: CV, blind set, metamorphic flips).
# Longer steps, also not in the default list: gate-external (needs pip install -e '.[external-chat]'), gate16-finetune, gate16-lora, chooser, ternary, synth-more, decoding, shipped-model, serve-load, ablate (each says its time).
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
S=../shared/data/shortcutforge
OUT=${1:-runs/bench}
shift || true
STEPS=${*:-toolchain typed-ir synth negatives ood encoder toy gate gate16 gate-study gate-heldout gate-heldout6 evaluate-baselines filler}
[ -f "$S/train.jsonl" ] || { echo "error: $S/train.jsonl not found (../shared absent)" >&2; exit 2; }
mkdir -p "$OUT"
TIMES="$OUT/timings.tsv"

step() {  # step NAME COMMAND... : run, time, append to timings.tsv
  local name=$1; shift
  local t0=$EPOCHREALTIME
  echo ">> $name: $*" >&2
  "$@"
  printf '%s\t%s\n' "$name" "$(python3 -c "print(round($EPOCHREALTIME - $t0, 2))")" >> "$TIMES"
}

split() { [ -f "$OUT/split/train.jsonl" ] || step split sashimi data split --data $S/train.jsonl --out "$OUT/split" --seed 0 --dev-fraction 0.1; }
# issue 16's OOD set: 16 OOD categories x 80, 2,000 in-domain (half real train-split prompts), register layer
ood16() { split; [ -f "$OUT/ood16.jsonl" ] || step ood16 sashimi data ood --out "$OUT/ood16.jsonl" --data "$OUT/split/train.jsonl" --in-domain 2000 --per-category 80 --seed 0; }
# ood16 + the third template batch (issue 16: six more OOD categories and their in-domain twins); the shipped gate's set since 2026-12-02
ood17() { split; [ -f "$OUT/ood17.jsonl" ] || step ood17 sashimi data ood --out "$OUT/ood17.jsonl" --data "$OUT/split/train.jsonl" --in-domain 2000 --per-category 80 --seed 0 --more-templates; }

for s in $STEPS; do case $s in
  toolchain)
    step corpus-check sh -c "sashimi dsl corpus-check --data $S/train.jsonl --catalog-dir $S --json > '$OUT/corpus_check.json'" ;;
  typed-ir)
    split
    step typed-ir sashimi data typed-ir --data $S/train.jsonl --catalog-dir $S --out "$OUT/typed_ir.jsonl" --report "$OUT/typed_ir_report.json"
    step vocab sashimi data vocab --data "$OUT/split/train.jsonl" --catalog-dir $S --out "$OUT/vocab"
    step coverage sh -c "sashimi exp coverage --vocab '$OUT/vocab' --data '$OUT/split/dev.jsonl' --json > '$OUT/coverage.json'" ;;
  synth)
    step synth sashimi data synth --n 5000 --seed 0 --out "$OUT/synth" --check --baseline ;;
  negatives)
    split
    step negatives sashimi data negatives --data "$OUT/split/train.jsonl" --catalog-dir $S --out "$OUT/negatives.jsonl" --seed 0 ;;
  ood)
    split
    step ood sashimi data ood --out "$OUT/ood.jsonl" --data "$OUT/split/train.jsonl" --in-domain 1200 --per-category 60 --seed 0
    step ood-own sashimi data ood --out "$OUT/ood_own.jsonl" --in-domain 1200 --per-category 60 --seed 0 ;;
  encoder)
    split
    [ -f "$OUT/synth/train.jsonl" ] || step synth sashimi data synth --n 5000 --seed 0 --out "$OUT/synth"
    step encoder-real sashimi exp encoder --data "$OUT/split/train.jsonl" --out "$OUT/encoder_real"
    step encoder-real-cached sashimi exp encoder --data "$OUT/split/train.jsonl" --out "$OUT/encoder_real_cached"
    step encoder-synth sashimi exp encoder --data "$OUT/synth/train.jsonl" --out "$OUT/encoder_synth" ;;
  toy)
    for seed in 0 1 2; do
      step "toy-seed$seed" sh -c "sashimi exp toy --json --seed $seed --out '$OUT/toy_seed$seed' > '$OUT/toy_seed$seed.json'"
    done ;;
  gate)
    split
    [ -f "$OUT/ood.jsonl" ] || step ood sashimi data ood --out "$OUT/ood.jsonl" --data "$OUT/split/train.jsonl" --in-domain 1200 --per-category 60 --seed 0
    [ -f "$OUT/ood_own.jsonl" ] || step ood-own sashimi data ood --out "$OUT/ood_own.jsonl" --in-domain 1200 --per-category 60 --seed 0
    step gate sh -c "sashimi exp gate --ood '$OUT/ood.jsonl' --real-dev '$OUT/split/dev.jsonl' --json > '$OUT/gate.json'"
    step gate-own sh -c "sashimi exp gate --ood '$OUT/ood_own.jsonl' --real-dev '$OUT/split/dev.jsonl' --json > '$OUT/gate_own.json'"
    for seed in 0 1 2 3 4; do
      step "gate-linear-lexical-seed$seed" sh -c "sashimi exp gate --ood '$OUT/ood.jsonl' --real-dev '$OUT/split/dev.jsonl' --kinds linear --features embedding+lexical --seed $seed --json > '$OUT/gate_linear_lexical_seed$seed.json'"
    done
    step gate-evaluate sh -c "sashimi exp gate --evaluate '$OUT/ood_own.jsonl' --json > '$OUT/gate_evaluate_own.json'"
    step gate-cv sh -c "sashimi exp gate --ood '$OUT/ood.jsonl' --real-dev '$OUT/split/dev.jsonl' --cv 5 --kinds linear --json --out '$OUT/gate_cv' > '$OUT/gate_cv.json'" ;;
  gate-ship)  # THE shipped gate (issue 16): linear head on embedding+lexical fused with rank-32 adapters on MiniLM's top 3
    # layers, seed 0, precision rule, trained on ood17 (~20 min; the adapters trained are kept in $OUT/gate_adapter/adapters, a rerun reuses them);
    # misspelt words corrected before the encoder at decision time (--spelling), and the head with the neighbour margin
    # (embedding+lexical+neighbours) as the adapters' partner (both since 2026-12-02's eighth session)
    ood17
    step gate-ship sh -c "sashimi exp gate --ood '$OUT/ood17.jsonl' --real-dev '$OUT/split/dev.jsonl' --kinds linear --features embedding+lexical+neighbours --seed 0 --threshold-rule precision --adapter layers=3,rank=32,lr=1e-3 --spelling --out '$OUT/gate_adapter' --save src/sashimi/model/assets/gate --json > '$OUT/gate_ship.json'" ;;
  gate-external)  # RESULTS 9 "Chat written by other people": chatterbot-corpus's English first turns (749 after de-duplication;
    # needs `pip install -e '.[external-chat]'`) as an independent OOD check of the shipped gate, and as extra OOD
    # training data for the frozen neighbour-margin head (ood17 vs ood17 + the turns): pooled 5-fold CV, blind set (~5 min)
    ood17
    step gate-external-data python benchmarks/gate_external_chat.py --ood "$OUT/ood17.jsonl" --out "$OUT/ood17cb.jsonl"
    step gate-external-only sh -c "grep '\"cb/' '$OUT/ood17cb.jsonl' > '$OUT/cb_only.jsonl'"
    step gate-external-shipped sh -c "sashimi exp gate --evaluate '$OUT/cb_only.jsonl' --json > '$OUT/cb_shipped.json'"
    for v in ref:ood17 cand:ood17cb; do
      n=${v%%:*}; f=${v##*:}
      step "gate-external-$n" sh -c "sashimi exp gate --ood '$OUT/$f.jsonl' --real-dev '$OUT/split/dev.jsonl' --kinds linear --features embedding+lexical+neighbours --seed 0 --threshold-rule precision --spelling --save '$OUT/s1_$n/gate' --out '$OUT/s1_$n' --json > '$OUT/s1_$n.json'"
      step "gate-external-cv-$n" sh -c "sashimi exp gate --ood '$OUT/$f.jsonl' --real-dev '$OUT/split/dev.jsonl' --cv 5 --kinds linear --features embedding+lexical+neighbours --spelling --json --out '$OUT/s1cv_$n' > '$OUT/s1cv_$n.json'"
      step "gate-external-blind-$n" sh -c "sashimi exp gate --evaluate tests/data/gate_blind.jsonl --gate '$OUT/s1_$n/gate' --json > '$OUT/s1_blind_$n.json'"
      step "gate-external-cb-$n" sh -c "sashimi exp gate --evaluate '$OUT/cb_only.jsonl' --gate '$OUT/s1_$n/gate' --json > '$OUT/cb_$n.json'"
    done ;;
  gate16)  # issue 16's checks of the shipped gate: pooled 5-fold CV on its set (ood17), blind set, metamorphic flips, latency
    ood17
    step gate16-cv sh -c "sashimi exp gate --ood '$OUT/ood17.jsonl' --real-dev '$OUT/split/dev.jsonl' --cv 5 --kinds linear --features embedding+lexical --json --out '$OUT/gate16_cv' > '$OUT/gate16_cv.json'"
    # the same with the shipped fused gate beside: 30 adapter trainings, ~100 min on 2 cores (resumable: kept in $OUT/gate17_adapter_cv/adapters)
    step gate16-cv-adapter sh -c "sashimi exp gate --ood '$OUT/ood17.jsonl' --real-dev '$OUT/split/dev.jsonl' --cv 5 --kinds linear --features embedding+lexical --adapter layers=3,rank=32,lr=1e-3 --json --out '$OUT/gate17_adapter_cv' > '$OUT/gate17_adapter_cv.json'"
    # the same folds with each test prompt read as the shipped gate reads it (misspelt words corrected; the kept adapters reused, ~2 min)
    step gate16-cv-adapter-spelling sh -c "sashimi exp gate --ood '$OUT/ood17.jsonl' --real-dev '$OUT/split/dev.jsonl' --cv 5 --kinds linear --features embedding+lexical --adapter layers=3,rank=32,lr=1e-3 --spelling --json --out '$OUT/gate17_adapter_cv' > '$OUT/gate17_adapter_cv_spelling.json'"
    # THE shipped gate's configuration: the neighbour-margin head as the adapters' partner (the same kept adapters, ~2 min)
    step gate16-cv-shipped sh -c "sashimi exp gate --ood '$OUT/ood17.jsonl' --real-dev '$OUT/split/dev.jsonl' --cv 5 --kinds linear --features embedding+lexical+neighbours --adapter layers=3,rank=32,lr=1e-3 --spelling --json --out '$OUT/gate17_adapter_cv' > '$OUT/gate17_adapter_nb_cv.json'"
    step gate16-blind sh -c "sashimi exp gate --evaluate tests/data/gate_blind.jsonl --json > '$OUT/gate16_blind.json'"
    step gate16-flips-blind sh -c "sashimi exp gate-flips --data tests/data/gate_blind.jsonl --json > '$OUT/gate16_flips_blind.json'"
    step gate16-flips-ood sh -c "sashimi exp gate-flips --data '$OUT/ood17.jsonl' --limit 600 --json > '$OUT/gate16_flips_ood600.json'"
    step gate16-latency sh -c "python benchmarks/gate_latency.py --n 200 > '$OUT/gate16_latency.json'"
    step gate16-int8 python benchmarks/gate_int8.py --data "$OUT/ood17.jsonl" "$OUT/split/dev.jsonl" --out "$OUT/gate16_int8.json"
    # the shipped gate with and without its spelling correction on ood17's held-out templates and real dev (~2 min)
    step gate16-spelling python benchmarks/gate_spelling.py --ood "$OUT/ood17.jsonl" --real-dev "$OUT/split/dev.jsonl" --out "$OUT/gate_spelling.json" ;;
  gate-study)  # training templates only; about 45 minutes on 2 cores (fine-tuning MiniLM layers)
    [ -f "$OUT/ood.jsonl" ] || { echo "error: run the ood step first" >&2; exit 2; }
    step gate-study python benchmarks/gate_study.py --ood "$OUT/ood.jsonl" --out "$OUT/gate_study" --seeds 3 --finetune-seeds 2 ;;
  gate-heldout)  # the best fine-tuned fusion under sashimi exp gate's held-out protocol, 5 splits; about 40 minutes
    [ -f "$OUT/ood.jsonl" ] || { echo "error: run the ood step first" >&2; exit 2; }
    split
    step gate-heldout python benchmarks/gate_study.py --ood "$OUT/ood.jsonl" --out "$OUT/gate_heldout" --seeds 5 --finetune-seeds 5 \
      --held-out --real-dev "$OUT/split/dev.jsonl" --finetune full:layers=3,rank=0,lr=1e-4 ;;
  gate-heldout6)  # the same with all 6 MiniLM layers fine-tuned, 5 splits; about 70 minutes
    [ -f "$OUT/ood.jsonl" ] || { echo "error: run the ood step first" >&2; exit 2; }
    split
    step gate-heldout6 python benchmarks/gate_study.py --ood "$OUT/ood.jsonl" --out "$OUT/gate_heldout_l6" --seeds 5 --finetune-seeds 5 \
      --held-out --real-dev "$OUT/split/dev.jsonl" --finetune full6:layers=6,rank=0,lr=1e-4 ;;
  gate16-finetune)  # issue 16: MiniLM's top 3 / top 2 layers fine-tuned on ood16's training templates (canonical
    # requests); held-out templates, real dev and the blind set scored once; split seed 0, then seeds 1 and 2
    # (top 3 only) (RESULTS §9); about 36 + 45 minutes
    ood16
    split
    step gate16-finetune python benchmarks/gate_study.py --ood "$OUT/ood16.jsonl" --out "$OUT/gate16_finetune" --seeds 1 \
      --finetune-seeds 1 --canonical --held-out --real-dev "$OUT/split/dev.jsonl" --blind tests/data/gate_blind.jsonl \
      --finetune full3:layers=3,rank=0,lr=1e-4 full2:layers=2,rank=0,lr=1e-4
    step gate16-finetune-s12 python benchmarks/gate_study.py --ood "$OUT/ood16.jsonl" --out "$OUT/gate16_finetune_s12" --first-seed 1 \
      --seeds 2 --finetune-seeds 2 --canonical --held-out --real-dev "$OUT/split/dev.jsonl" --blind tests/data/gate_blind.jsonl \
      --finetune full3:layers=3,rank=0,lr=1e-4 ;;
  gate16-lora)  # RESULTS 9 (2026-12-02): low-rank adapters (rank 8 and 32) on the top 3 layers instead, split seed 0 (~35 min)
    ood16
    split
    step gate16-lora python benchmarks/gate_study.py --ood "$OUT/ood16.jsonl" --out "$OUT/gate16_lora" --seeds 1 \
      --finetune-seeds 1 --canonical --held-out --real-dev "$OUT/split/dev.jsonl" --blind tests/data/gate_blind.jsonl \
      --finetune lora3:layers=3,rank=8,lr=1e-3 lora3r32:layers=3,rank=32,lr=1e-3
    # RESULTS 9 (2026-12-02, sixth session): rank 32 on split seeds 1 and 2 of ood16, then on ood17 (the shipped gate's
    # set) for split seeds 0-2; one split seed per invocation, ~25-30 min each on one core
    ood17
    for seed in 1 2; do
      step gate16-lora-s$seed python benchmarks/gate_study.py --ood "$OUT/ood16.jsonl" --out "$OUT/gate16_lora_s$seed" \
        --first-seed $seed --seeds 1 --finetune-seeds 1 --canonical --held-out --real-dev "$OUT/split/dev.jsonl" \
        --blind tests/data/gate_blind.jsonl --finetune lora3r32:layers=3,rank=32,lr=1e-3
    done
    for seed in 0 1 2; do
      step gate17-lora-s$seed python benchmarks/gate_study.py --ood "$OUT/ood17.jsonl" --out "$OUT/gate17_lora_s$seed" \
        --first-seed $seed --seeds 1 --finetune-seeds 1 --canonical --held-out --real-dev "$OUT/split/dev.jsonl" \
        --blind tests/data/gate_blind.jsonl --finetune lora3r32:layers=3,rank=32,lr=1e-3
    done ;;
  evaluate-baselines)  # evaluation harness: baselines + ceilings on real dev and synthetic test splits; ~2 min once embeddings are cached
    split
    [ -f "$OUT/synth/train.jsonl" ] || step synth sashimi data synth --n 5000 --seed 0 --out "$OUT/synth"
    step eval-real-dev sh -c "sashimi evaluate --data '$OUT/split/dev.jsonl' --catalog-dir $S --baselines --ceilings --train '$OUT/split/train.jsonl' --out '$OUT/eval_real_dev' --quiet --json > '$OUT/eval_real_dev.json'"
    for sp in test test_compositional; do
      step "eval-synth-$sp" sh -c "sashimi evaluate --data '$OUT/synth/$sp.jsonl' --baselines --ceilings --train '$OUT/synth/train.jsonl' --out '$OUT/eval_synth_$sp' --quiet --json > '$OUT/eval_synth_$sp.json'"
    done
    step knn-latency sashimi baseline knn-minilm --latency --train "$OUT/split/train.jsonl" --data "$OUT/split/dev.jsonl" --catalog-dir $S --out "$OUT/knn_minilm_dev.jsonl"
    step eval-knn sh -c "sashimi evaluate --predictions '$OUT/knn_minilm_dev.jsonl' --name knn-minilm --data '$OUT/split/dev.jsonl' --catalog-dir $S --out '$OUT/eval_knn_dev' --quiet --json > /dev/null"
    step gates-knn sh -c "sashimi gates '$OUT/eval_knn_dev/summary.json' --gate src/sashimi/model/assets/gate/gate.json > '$OUT/gates_knn_dev.txt' || [ \$? -eq 1 ]"
    # scoring speed: every real target as its own prediction (1,671 rows; gold against itself scores 1.0)
    step reference sashimi baseline reference --data $S/train.jsonl --out "$OUT/gold_as_predictions.jsonl"
    step eval-speed sh -c "sashimi evaluate --predictions '$OUT/gold_as_predictions.jsonl' --data $S/train.jsonl --catalog-dir $S --out '$OUT/eval_speed' --quiet --json > '$OUT/eval_speed.json'" ;;
  filler)  # value filler (Tier 3), oracle Tier 3 vs predicted on gold Tier 1+2; about 5 minutes
    split
    [ -f "$OUT/synth/train.jsonl" ] || step synth sashimi data synth --n 5000 --seed 0 --out "$OUT/synth"
    step filler-synth sh -c "sashimi exp filler --train '$OUT/synth/train.jsonl' --data '$OUT/synth/test.jsonl' '$OUT/synth/test_compositional.jsonl' --quiet --json --out '$OUT/filler_synth' > '$OUT/filler_synth.json'"
    # fitted on the real corpus: its vocabulary stays in the run folder (--save), never in the repository
    step filler-real sh -c "sashimi exp filler --train '$OUT/split/train.jsonl' --data '$OUT/split/dev.jsonl' --catalog-dir $S --value-source real --quiet --json --out '$OUT/filler_real' --save '$OUT/filler_real/filler' > '$OUT/filler_real.json'" ;;
  chooser)  # issue 12: the neighbour chooser on a configs/real.yaml run (RUN_REAL, default $OUT/real): study on
    # the run's own dev carve, grouped CV of the action model on its training rows, fit on every training row, generate + evaluate on real dev, paired CI vs kNN; ~20 min
    split
    RUN_REAL="${RUN_REAL:-$OUT/real}"
    [ -f "$RUN_REAL/model.safetensors" ] || step train-real sashimi train --config configs/real.yaml --data "$OUT/split/train.jsonl" --out "$RUN_REAL" --quiet
    step chooser-study python benchmarks/chooser_study.py "$RUN_REAL" --out "$OUT/chooser_study"
    step chooser-cv python benchmarks/chooser_cv.py "$RUN_REAL" --out "$OUT/chooser_cv"
    step chooser-variants python benchmarks/chooser_variants.py "$RUN_REAL" --out "$OUT/chooser_variants"  # RESULTS 7.10, 7.18 (count)
    step chooser-lora python benchmarks/chooser_lora.py "$RUN_REAL" --out "$OUT/chooser_lora"  # RESULTS 7.18, ~14 min
    # synthetic rows for the action model (RESULTS 7.18): needs a synth-16k run for its data files
    [ -f "$OUT/synth_36k_16k_s0/meta.json" ] && step chooser-synth-rows python benchmarks/chooser_synth_rows.py "$RUN_REAL" "$OUT/synth_36k_16k_s0" --out "$OUT/chooser_synth_rows"
    for f in 0.25 0.5 0.75; do  # the action model's learning curve on real rows (RESULTS 7.18)
      step chooser-frac-$f python benchmarks/chooser_synth_rows.py "$RUN_REAL" --extra 0 --real-fraction $f --out "$OUT/chooser_frac_$f"
    done
    step chooser-edits python benchmarks/chooser_edits.py "$RUN_REAL" --out "$OUT/chooser_edits"  # RESULTS 7.18
    [ -f "$S/action_catalog.json" ] && step chooser-prior python benchmarks/chooser_prior.py "$RUN_REAL" --out "$OUT/chooser_prior" --catalog "$S" --stack 5  # RESULTS 7.18
    step chooser-fit sashimi fit-chooser "$RUN_REAL" --set k=50 --set mix=1 --set include_decoder=false --set c=16 --set minilm_weight=1 --quiet
    step chooser-generate sashimi generate --model "$RUN_REAL" --input "$OUT/split/dev.jsonl" --out "$OUT/chooser_dev.jsonl" --quiet
    step chooser-eval sh -c "sashimi evaluate --predictions '$OUT/chooser_dev.jsonl' --name chooser --data '$OUT/split/dev.jsonl' --catalog-dir $S --baselines --train '$OUT/split/train.jsonl' --out '$OUT/eval_chooser_dev' --quiet --json > '$OUT/eval_chooser_dev.json'"
    step chooser-paired sh -c "python benchmarks/paired.py '$OUT/eval_chooser_dev/rows.jsonl' '$OUT/eval_chooser_dev/rows_knn-minilm.jsonl' > '$OUT/chooser_paired.txt'" ;;
  recipe-cv)  # RESULTS 7.11: the configs/real.yaml recipe vs kNN over ten dev-sized folds of the real corpus (fold 0 = real dev); ~80 min, one core, resumable
    step recipe-cv python benchmarks/recipe_cv.py --data $S/train.jsonl --out "$OUT/recipe_cv" ;;
  encoder-backend)  # RESULTS 7.12: MiniLM in onnxruntime vs torch: drift of the shipped generator's answers, then latency A/B; ~15 min
    split
    [ -f "$OUT/synth/train.jsonl" ] || step synth sashimi data synth --n 5000 --seed 0 --out "$OUT/synth"
    step encoder-drift sh -c "python benchmarks/encoder_precision.py --batch-sizes --drift-of onnxruntime --generations realdev='$OUT/split/dev.jsonl' test='$OUT/synth/test.jsonl' comp='$OUT/synth/test_compositional.jsonl' blind=tests/data/gate_blind.jsonl > '$OUT/encoder_drift.json'"
    for b in torch onnxruntime; do
      step "latency-$b" env SASHIMI_ENCODER_BACKEND=$b SASHIMI_ENCODER_PRECISION=float32 python benchmarks/latency.py --cold-runs 3 --data "$OUT/split/dev.jsonl" --extra "$OUT/synth/test.jsonl" --out "$OUT/latency_$b.json"
    done ;;
  ternary)  # RESULTS 7.9: learning rate / staged ternarisation per regime on the dev carve (seed 0), then 3 seeds of
    # each regime's pick on real dev, the decoder alone (no chooser); ~95 min on 2 cores (resumable)
    split
    tern() {  # tern NAME SEED SETTINGS...: train (no chooser), generate real dev, evaluate
      n=$1; seed=$2; shift 2; R="$OUT/ternary/${n}_s$seed"
      [ -f "$R/meta.json" ] || step "train-$n-$seed" sashimi train --config configs/real.yaml --data "$OUT/split/train.jsonl" --out "$R" --set train.seed=$seed --set chooser.fit=false "$@" --quiet
      step "gen-$n-$seed" sashimi generate --model "$R" --input "$OUT/split/dev.jsonl" --out "$R/preds_dev.jsonl" --quiet
      step "eval-$n-$seed" sh -c "sashimi evaluate --predictions '$R/preds_dev.jsonl' --name $n-s$seed --data '$OUT/split/dev.jsonl' --catalog-dir $S --out '$R/eval_dev' --quiet --json > '$R/eval_dev.json'"
    }
    tern cont1 0; tern cont2 0 --set train.lr=0.002; tern cont3 0 --set train.lr=0.003
    for lr in 1 2 3; do tern "tern$lr" 0 --set model.weight_regime=full --set train.lr=0.00$lr; done
    for lr in 2 3; do tern "tern${lr}w" 0 --set model.weight_regime=full --set train.lr=0.00$lr --set train.ternary_warmup_steps=150; done
    # dev-carve CE per run: the "dev" lines of each run's metrics.jsonl (RESULTS 7.9 lists them); the picks:
    for seed in 1 2; do tern cont2 $seed --set train.lr=0.002; tern tern1 $seed --set model.weight_regime=full; done
    for seed in 1 2 3 4; do  # the two compared regimes get five seeds
      tern cont1 $seed
      tern tern3w $seed --set model.weight_regime=full --set train.lr=0.003 --set train.ternary_warmup_steps=150
    done
    for seed in 0 1 2 3 4; do
      step "paired-ternary-$seed" sh -c "python benchmarks/paired.py '$OUT/ternary/tern3w_s$seed/eval_dev/rows.jsonl' '$OUT/ternary/cont1_s$seed/eval_dev/rows.jsonl' > '$OUT/ternary/paired_s$seed.txt'"
    done
    # RESULTS 7.13: the same pair of regimes at twice the budget (1,200 steps), seeds 0-2; ~40 min more on 2 cores
    for seed in 0 1 2; do
      tern cont1200 $seed --set train.steps=1200 --set train.threads=1
      tern tern3w1200 $seed --set train.steps=1200 --set train.threads=1 --set model.weight_regime=full --set train.lr=0.003 --set train.ternary_warmup_steps=150
      step "paired-ternary1200-$seed" sh -c "python benchmarks/paired.py '$OUT/ternary/tern3w1200_s$seed/eval_dev/rows.jsonl' '$OUT/ternary/cont1200_s$seed/eval_dev/rows.jsonl' > '$OUT/ternary/paired1200_s$seed.txt'"
    done
    # RESULTS 7.14: longer continuous warm-ups (seed 0), then full ternary distilled from the continuous
    # 1,200-step run of the same seed (train.distill_from), seeds 0-4 (each ~18 min; ~100 min more on 2 cores)
    for w in 300 600; do
      tern "tern3w${w}_1200" 0 --set train.steps=1200 --set train.threads=1 --set model.weight_regime=full --set train.lr=0.003 --set train.ternary_warmup_steps=$w
    done
    for seed in 3 4; do tern cont1200 $seed --set train.steps=1200 --set train.threads=1; done  # two more teachers
    for seed in 0 1 2 3 4; do
      tern kd1200 $seed --set train.steps=1200 --set train.threads=1 --set model.weight_regime=full --set train.lr=0.003 --set train.ternary_warmup_steps=150 --set "train.distill_from=$OUT/ternary/cont1200_s$seed"
      step "paired-kd1200-$seed" sh -c "python benchmarks/paired.py '$OUT/ternary/kd1200_s$seed/eval_dev/rows.jsonl' '$OUT/ternary/cont1200_s$seed/eval_dev/rows.jsonl' > '$OUT/ternary/paired_kd1200_s$seed.txt'"
    done
    # RESULTS 7.14 (third session): the same students at distillation temperature 2 (chosen before running,
    # the usual softening; the one other setting tried), seeds 0-4 (each ~22 min; ~70 min more on 2 cores)
    for seed in 0 1 2 3 4; do
      tern kdT2_1200 $seed --set train.steps=1200 --set train.threads=1 --set model.weight_regime=full --set train.lr=0.003 --set train.ternary_warmup_steps=150 --set "train.distill_from=$OUT/ternary/cont1200_s$seed" --set loss.distill_temperature=2
      step "paired-kdT2_1200-$seed" sh -c "python benchmarks/paired.py '$OUT/ternary/kdT2_1200_s$seed/eval_dev/rows.jsonl' '$OUT/ternary/cont1200_s$seed/eval_dev/rows.jsonl' > '$OUT/ternary/paired_kdT2_1200_s$seed.txt'"
    done
    # RESULTS 7.16: full ternary with one scale per output row (model.ternary_scale=row), seeds 0-2, paired
    # per seed and seed-averaged against the continuous runs (each ~16 min; ~50 min more on 2 cores)
    for seed in 0 1 2; do
      tern row1200 $seed --set train.steps=1200 --set train.threads=1 --set model.weight_regime=full --set train.lr=0.003 --set train.ternary_warmup_steps=150 --set model.ternary_scale=row
    done
    step paired-row1200 sh -c "python benchmarks/paired.py $(for s in 0 1 2; do printf "'%s' '%s' " "$OUT/ternary/row1200_s$s/eval_dev/rows.jsonl" "$OUT/ternary/cont1200_s$s/eval_dev/rows.jsonl"; done) --resamples 10000 > '$OUT/ternary/paired_row1200.txt'" ;;
  synth-16k)  # RESULTS 7.13: the 36,000 rows of synth-more (run that first), 16,000 steps, seeds 0-2 (~95 min each on one
    # core; resumable with the trainer's checkpoints), closing bias chosen on synthetic dev, then the test splits
    X36="$OUT/synth/train.jsonl $OUT/synth_extra/train.jsonl $OUT/synth_extra2/train.jsonl"
    for seed in 0 1 2; do
      R="$OUT/synth_36k_16k_s$seed"
      [ -f "$R/meta.json" ] || step "train-synth-36k-16k-s$seed" sashimi train --config configs/synth.yaml --data $X36 --set "data.dev_file=$OUT/synth/dev.jsonl" --set train.steps=16000 --set train.threads=1 --set train.seed=$seed --out "$R" --quiet
      step "decoding-synth-36k-16k-s$seed" python benchmarks/decoding_sweep.py --out "$R/decoding" --model "$R" --caps 4 --close-biases -1 -0.5 0 0.5 1 --set "sdev=$OUT/synth/dev.jsonl" --set "test=$OUT/synth/test.jsonl" --set "comp=$OUT/synth/test_compositional.jsonl" --select-on sdev
      # RESULTS 7.17: beam width (1 / 2 / 4) as a third axis of the same selection on synthetic dev; the greedy
      # runs above are reused (hard links), so only the beams are decoded
      mkdir -p "$R/decoding_beams" && cp -aln "$R/decoding"/*_count* "$R/decoding_beams/"
      step "decoding-beams-synth-36k-16k-s$seed" python benchmarks/decoding_sweep.py --out "$R/decoding_beams" --model "$R" --caps 4 --close-biases -1 -0.5 0 0.5 1 --beams 1 2 4 --set "sdev=$OUT/synth/dev.jsonl" --set "test=$OUT/synth/test.jsonl" --set "comp=$OUT/synth/test_compositional.jsonl" --select-on sdev
    done ;;
  shipped-model)  # RESULTS 7.15: the shipped model's recipe (configs/default.yaml) retrained and packed into $OUT/default_pack
    # (the shipped folder is not touched), then scored beside the shipped model on synthetic dev, real dev, synthetic test and
    # test_compositional; needs synth-more's 36,000 rows; ~55 min on one core (training ~40 of it)
    split
    [ -f "$OUT/realcarve/train.jsonl" ] || step realcarve sashimi data split --data "$OUT/split/train.jsonl" --dev-fraction 0.1 --seed 0 --out "$OUT/realcarve"
    cat "$OUT/realcarve/dev.jsonl" "$OUT/synth/dev.jsonl" > "$OUT/default_dev.jsonl"
    [ -f "$OUT/default/meta.json" ] || step train-default sashimi train --config configs/default.yaml --out "$OUT/default" --quiet \
      --data "$OUT/realcarve/train.jsonl" "$OUT/synth/train.jsonl" "$OUT/synth_extra/train.jsonl" "$OUT/synth_extra2/train.jsonl" \
      --set "data.dev_file=$OUT/default_dev.jsonl"
    step export-default sashimi export "$OUT/default" --out "$OUT/default_pack" --synthetic "$OUT/synth/train.jsonl" --encoder-precision int8
    mkdir -p "$OUT/default_eval"
    for pair in sdev:synth/dev rdev:split/dev test:synth/test comp:synth/test_compositional; do
      name=${pair%%:*}; data="$OUT/${pair#*:}.jsonl"
      for m in default_pack:"$OUT/default_pack" shipped:src/sashimi/model/assets/default; do
        tag=${m%%:*}; model=${m#*:}
        step "gen-$tag-$name" sashimi generate --model "$model" --input "$data" --out "$OUT/default_eval/${tag}_$name.jsonl" --quiet
        step "eval-$tag-$name" sh -c "sashimi evaluate --predictions '$OUT/default_eval/${tag}_$name.jsonl' --data '$data' --out '$OUT/default_eval/${tag}_$name' --json --quiet > '$OUT/default_eval/${tag}_$name.json'"
      done
    done ;;
  synth-more)  # RESULTS 7.9: configs/synth.yaml (4,000 steps) on its 3,600 generated rows, then on 14,400 more (seed 1,
    # seed 0's held-out pairs, none of its prompts); synthetic test + test_compositional; ~45 min on 2 cores; 7.10 below
    [ -f "$OUT/synth/train.jsonl" ] || step synth sashimi data synth --n 5000 --seed 0 --out "$OUT/synth"
    [ -f "$OUT/synth_extra/train.jsonl" ] || step synth-extra sashimi data synth --n 20000 --seed 1 --holdout-seed 0 --out "$OUT/synth_extra" --exclude "$OUT/synth/train.jsonl" "$OUT/synth/dev.jsonl" "$OUT/synth/test.jsonl" "$OUT/synth/test_compositional.jsonl" --quiet
    [ -f "$OUT/synth4000/meta.json" ] || step train-synth4000 sashimi train --config configs/synth.yaml --out "$OUT/synth4000" --quiet
    [ -f "$OUT/synth_more/meta.json" ] || step train-synth-more sashimi train --config configs/synth.yaml --data "$OUT/synth/train.jsonl" "$OUT/synth_extra/train.jsonl" --set "data.dev_file=$OUT/synth/dev.jsonl" --out "$OUT/synth_more" --quiet
    # RESULTS 7.10: 18,000 more rows (seed 2; seed 0's pairs and every earlier prompt kept out): 36,000 rows,
    # 4,000 and 8,000 steps, and 8,000 steps with 128 encoder token states (the two 8,000-step runs on one thread each,
    # as measured: they ran side by side); ~2.5 h more on 2 cores
    [ -f "$OUT/synth_extra2/train.jsonl" ] || step synth-extra2 sashimi data synth --n 25000 --seed 2 --holdout-seed 0 --out "$OUT/synth_extra2" --exclude "$OUT/synth/train.jsonl" "$OUT/synth/dev.jsonl" "$OUT/synth/test.jsonl" "$OUT/synth/test_compositional.jsonl" "$OUT/synth_extra/train.jsonl" --quiet
    X36="$OUT/synth/train.jsonl $OUT/synth_extra/train.jsonl $OUT/synth_extra2/train.jsonl"
    [ -f "$OUT/synth_36k/meta.json" ] || step train-synth-36k sashimi train --config configs/synth.yaml --data $X36 --set "data.dev_file=$OUT/synth/dev.jsonl" --out "$OUT/synth_36k" --quiet
    [ -f "$OUT/synth_36k_8k/meta.json" ] || step train-synth-36k-8k sashimi train --config configs/synth.yaml --data $X36 --set "data.dev_file=$OUT/synth/dev.jsonl" --set train.steps=8000 --set train.threads=1 --out "$OUT/synth_36k_8k" --quiet
    [ -f "$OUT/synth_36k_8k_enc128/meta.json" ] || step train-synth-36k-8k-enc128 sashimi train --config configs/synth.yaml --data $X36 --set "data.dev_file=$OUT/synth/dev.jsonl" --set train.steps=8000 --set train.threads=1 --set model.max_enc_tokens=128 --out "$OUT/synth_36k_8k_enc128" --quiet
    for seed in 1 2; do  # two more seeds of the 8,000-step run (issue 12's headline rows: >= 3 seeds)
      [ -f "$OUT/synth_36k_8k_s$seed/meta.json" ] || step "train-synth-36k-8k-s$seed" sashimi train --config configs/synth.yaml --data $X36 --set "data.dev_file=$OUT/synth/dev.jsonl" --set train.steps=8000 --set train.threads=1 --set train.seed=$seed --out "$OUT/synth_36k_8k_s$seed" --quiet
    done
    for run in synth4000 synth_more synth_36k synth_36k_8k synth_36k_8k_s1 synth_36k_8k_s2 synth_36k_8k_enc128; do
      for set in test test_compositional; do  # the default decoding (close bias 1)
        step "gen-$run-$set" sashimi generate --model "$OUT/$run" --input "$OUT/synth/$set.jsonl" --out "$OUT/$run/preds_$set.jsonl" --quiet
        step "eval-$run-$set" sh -c "sashimi evaluate --predictions '$OUT/$run/preds_$set.jsonl' --name $run --data '$OUT/synth/$set.jsonl' --train '$OUT/synth/train.jsonl' --baselines --out '$OUT/$run/eval_$set' --quiet --json > '$OUT/$run/eval_$set.json'"
      done
      # the closing bias selected on the synthetic dev split, then scored once on the test splits (RESULTS 7.10)
      step "decoding-$run" python benchmarks/decoding_sweep.py --out "$OUT/$run/decoding" --model "$OUT/$run" --caps 4 --close-biases -1 -0.5 0 0.5 1 --set "sdev=$OUT/synth/dev.jsonl" --set "test=$OUT/synth/test.jsonl" --set "comp=$OUT/synth/test_compositional.jsonl" --select-on sdev
    done
    step synth-ambiguity sh -c "python benchmarks/synth_ambiguity.py --synth '$OUT/synth' > '$OUT/synth_ambiguity.json'" ;;
  decoding)  # RESULTS 7.8: repetition caps and closing biases on the shipped model, then the latency benchmark; ~25 min
    split
    [ -f "$OUT/synth/train.jsonl" ] || step synth sashimi data synth --n 5000 --seed 0 --out "$OUT/synth"
    step decoding-caps env SASHIMI_ENCODER_PRECISION=float32 python benchmarks/decoding_sweep.py --out "$OUT/decoding" --caps 0 10 6 4 --close-biases 0 --set "dev=$OUT/split/dev.jsonl" --set "test=$OUT/synth/test.jsonl" --set "comp=$OUT/synth/test_compositional.jsonl"
    step decoding-bias-dev env SASHIMI_ENCODER_PRECISION=float32 python benchmarks/decoding_sweep.py --out "$OUT/decoding" --caps 4 --close-biases 0 0.5 1 1.5 2 --set "rdev=$OUT/split/dev.jsonl" --set "sdev=$OUT/synth/dev.jsonl"
    step decoding-bias-test env SASHIMI_ENCODER_PRECISION=float32 python benchmarks/decoding_sweep.py --out "$OUT/decoding" --caps 4 --close-biases 0 1 --set "test=$OUT/synth/test.jsonl" --set "comp=$OUT/synth/test_compositional.jsonl"
    step latency env SASHIMI_ENCODER_PRECISION=float32 python benchmarks/latency.py --cold-runs 5 --data "$OUT/split/dev.jsonl" --extra "$OUT/synth/test.jsonl" --out "$OUT/latency.json" ;;
  serve-load)  # RESULTS 8 (~45 min): the answers of the numpy decoder step (the code before onnxruntime ran it) against the
    # default path alone and batched; the load test with 1 and 2 generation workers, then 2 workers with batches of at
    # most 1 and 8 requests, then the httpx and raw load clients, alternating, 3 runs each (needs both cores free)
    # exit 1 = a bar missed (the report says which); anything else stops the script
    split; [ -f "$OUT/synth/test.jsonl" ] || step synth sashimi data synth --n 5000 --seed 0 --out "$OUT/synth"
    BI="$OUT/split/dev.jsonl $OUT/synth/test.jsonl $OUT/synth/test_compositional.jsonl tests/data/gate_blind.jsonl"
    step batch-identity-numpy-step env SASHIMI_DECODER_BACKEND=numpy python benchmarks/batch_identity.py --data $BI --programs-out "$OUT/programs_numpy_step.json" --out "$OUT/batch_identity_numpy_step.json"
    step batch-identity python benchmarks/batch_identity.py --data $BI --same-as "$OUT/programs_numpy_step.json" --out "$OUT/batch_identity.json"
    step serve-load-w1 sh -c "python benchmarks/serve_load.py --workers 1 --out '$OUT/serve_load_w1' || [ \$? -eq 1 ]"
    step serve-load-w2 sh -c "python benchmarks/serve_load.py --workers 2 --out '$OUT/serve_load_w2' || [ \$? -eq 1 ]"
    for rep in 1 2 3; do for mb in 1 8; do
      step "serve-load-w2-mb$mb-r$rep" sh -c "python benchmarks/serve_load.py --workers 2 --max-batch $mb --out '$OUT/serve_load_w2_mb${mb}_r$rep' || [ \$? -eq 1 ]"
    done; done
    for rep in 1 2 3; do for client in httpx raw; do
      step "serve-load-w2-$client-r$rep" sh -c "python benchmarks/serve_load.py --workers 2 --client $client --out '$OUT/serve_load_w2_${client}_r$rep' || [ \$? -eq 1 ]"
    done; done
    # start-up over six starts, the 6,000-request memory run, an 8-bit MiniLM's speed, drift, answers and load test (~15 min)
    step serve-startup sh -c "python benchmarks/serve_startup.py --runs 6 --workers 2 --out '$OUT/serve_startup.json' || [ \$? -eq 1 ]"
    step serve-load-6k sh -c "python benchmarks/serve_load.py --workers 2 --requests 6000 --out '$OUT/serve_load_w2_6k' || [ \$? -eq 1 ]"
    step encoder-int8 python benchmarks/encoder_int8.py --data "$OUT/split/dev.jsonl" --n 160 --out "$OUT/encoder_int8.json" \
      --answers "$OUT/split/dev.jsonl" "$OUT/synth/test.jsonl" "$OUT/synth/test_compositional.jsonl" tests/data/gate_blind.jsonl \
      --predictions-dir "$OUT/int8_preds"
    for n in dev:split/dev test:synth/test test_compositional:synth/test_compositional; do for v in float32 int8; do
      step "int8-evaluate-${n%%:*}-$v" sashimi evaluate --predictions "$OUT/int8_preds/${n%%:*}.$v.jsonl" --data "$OUT/${n#*:}.jsonl" --out "$OUT/int8_eval/${n%%:*}.$v" --name $v --quiet
    done; step "int8-paired-${n%%:*}" python benchmarks/paired.py "$OUT/int8_eval/${n%%:*}.int8/rows.jsonl" "$OUT/int8_eval/${n%%:*}.float32/rows.jsonl" --metric action_f1 skeleton_exact exact; done
    step encoder-int8-serve python benchmarks/encoder_int8_serve.py --runs 5 --out "$OUT/encoder_int8_serve"
    # the shipped model with its 8-bit MiniLM (packed.json) vs the float32 features: answers, scores, latency, load (~12 min)
    for n in dev:split/dev test:synth/test test_compositional:synth/test_compositional; do
      step "int8-shipped-generate-${n%%:*}" sashimi generate --input "$OUT/${n#*:}.jsonl" --out "$OUT/int8_shipped/${n%%:*}.jsonl" --quiet
      step "int8-shipped-evaluate-${n%%:*}" sashimi evaluate --predictions "$OUT/int8_shipped/${n%%:*}.jsonl" --data "$OUT/${n#*:}.jsonl" --out "$OUT/int8_shipped/eval_${n%%:*}" --name shipped-int8 --quiet
      step "int8-shipped-paired-${n%%:*}" python benchmarks/paired.py "$OUT/int8_shipped/eval_${n%%:*}/rows.jsonl" "$OUT/int8_eval/${n%%:*}.float32/rows.jsonl" --metric action_f1 skeleton_exact exact
    done
    for rep in 1 2; do for p in int8 float32; do
      step "latency-$p-r$rep" env SASHIMI_ENCODER_PRECISION=$p python benchmarks/latency.py --cold-runs 3 --data "$OUT/split/dev.jsonl" --extra "$OUT/synth/test.jsonl" --out "$OUT/latency_${p}_r$rep.json"
    done; done
    for rep in 1 2 3; do for p in int8 float32; do
      step "serve-load-$p-r$rep" sh -c "SASHIMI_ENCODER_PRECISION=$p python benchmarks/serve_load.py --workers 2 --out '$OUT/serve_load_${p}_r$rep' || [ \$? -eq 1 ]"
    done; done ;;
  ablate)  # issue 14: the priority matrix (27 jobs, ~80 min on 2 cores; resumable) + the 3x-budget check (~15 min)
    step ablate-priority sashimi ablate --matrix configs/ablation/priority.yaml --seeds 3 --workers 2 --out "$OUT/abl" --quiet
    step ablate-budget sashimi ablate --matrix configs/ablation/budget.yaml --seeds 1 --workers 2 --out "$OUT/abl-budget" --quiet ;;
  *) echo "error: unknown step '$s'" >&2; exit 2 ;;
esac; done
echo "done: results in $OUT (timings in $TIMES)" >&2
