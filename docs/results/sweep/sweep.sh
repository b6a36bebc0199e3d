#!/usr/bin/env bash
# Validation sweep for docs/results.md: FedCoLLM, 1 seed, 2 rounds, full data, scored on the validation splits.
cd "$(dirname "$0")/../../.."
F="dotnet src/FedCoLLM.Cli/bin/Release/net10.0/fedcollm.dll experiment --methods fedcollm,zeroshot --seeds 1 --rounds 2 --eval-split validation --public-eval-items 0"
run() { name=$1; shift; echo "== $name: $*"; start=$(date +%s); $F --out runs/sweep-$name "$@" > runs/sweep-$name.log 2>&1; echo "   exit $? in $(( $(date +%s) - start )) s"; grep -A12 "^| model" runs/sweep-$name/results.md | head -8; }
run default
run lambda4 --lambda 4
run t2 --temperature 2
run distill2 --distill-epochs 2
