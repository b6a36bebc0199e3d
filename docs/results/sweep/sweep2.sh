#!/usr/bin/env bash
# Second validation sweep for docs/results.md, around the chosen T = 2: FedCoLLM, 1 seed, full data, validation split,
# one thread (it ran beside the full experiment, which had the other core).
cd /work/main
F="dotnet /work/runs/bin-exp/fedcollm.dll experiment --methods fedcollm,zeroshot --seeds 1 --eval-split validation --public-eval-items 0 --threads 1 --temperature 2"
run() { name=$1; shift; echo "== $name: $*"; start=$(date +%s); $F --out /work/runs/sweep-$name "$@" > /work/runs/sweep-$name.log 2>&1; echo "   exit $? in $(( $(date +%s) - start )) s"; grep -A12 "^| model" /work/runs/sweep-$name/results.md | head -8; }
run t2-k16 --rounds 2 --top-k 16
run t2-rounds3 --rounds 3
run t2-distill2 --rounds 2 --distill-epochs 2
run t2-distill2-rounds3 --rounds 3 --distill-epochs 2
