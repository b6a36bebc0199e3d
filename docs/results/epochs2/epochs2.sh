#!/bin/bash
# Validation-only sensitivity check: would a second local epoch change the baselines' standing? (seed 1, 3 rounds)
# From the repository root; FEDCOLLM defaults to the Release build.
FEDCOLLM=${FEDCOLLM:-"dotnet src/FedCoLLM.Cli/bin/Release/net10.0/fedcollm.dll"}
for bench in skills wordnet; do
  extra=""
  [ $bench = wordnet ] && extra="--temperature 2 --distill-epochs 2 --eval-items 200 --public-eval-items 0"
  [ $bench = skills ] && extra="--public-eval-items 0"
  for lr in 1e-3 2e-3 5e-3; do
    echo "== $bench lr $lr epochs 2 $(date +%T)"
    $FEDCOLLM experiment --data data/$bench --methods fedavg,standalone --eval-split validation \
      --local-epochs 2 --lr-client $lr --seeds 1 --rounds 3 --threads 1 $extra --out runs/epochs2-$bench-$lr > runs/epochs2-$bench-$lr.log 2>&1
    grep -E "^\| SLM \| (FedAvg|Standalone)" runs/epochs2-$bench-$lr/results.md
  done
done
echo "== done $(date +%T)"
