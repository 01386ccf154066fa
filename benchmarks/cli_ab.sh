#!/usr/bin/env bash
# The README's chapter-1 `train` command exactly as written (in a terminal, so fit shows its
# progress bar, as a user sees it), timed from two source trees in turn, N rounds, so the
# machine's load hits both alike. Each line: the tree, the whole command's wall time, the
# training time the command prints, the final test accuracy, the 1-minute load average.
# Usage: PYTHON=... benchmarks/cli_ab.sh OLD_TREE NEW_TREE N > log
# (a tree's ../shared/data/mnist must hold MNIST, as the README's --data argument says)
set -euo pipefail
old=$1; new=$2; rounds=$3
bin=$(mktemp -d)
printf '#!/bin/sh\nexec %s -m tinygrad_nn "$@"\n' "${PYTHON:-python}" > "$bin/tinygrad-nn"
chmod +x "$bin/tinygrad-nn"
readme='tinygrad-nn train --spec 784-30-10:sigmoid,out=sigmoid --init nielsen_large --loss quadratic --optimizer sgd --lr 3.0 --batch-size 10 --epochs 30 --data ../shared/data/mnist'
echo "# \$ $readme"
echo "# $(nproc) cores; OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-unset}; run by script(1) in a pty"
for round in $(seq "$rounds"); do
  for tree in "$old" "$new"; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    start=$(date +%s.%N)
    (cd "$tree" && PYTHONPATH=$tree PATH=$bin:$PATH script -qec "$readme" /dev/null) \
      > "$bin/out.txt" 2>&1
    end=$(date +%s.%N)
    last=$(tr '\r' '\n' < "$bin/out.txt" | grep -a 'test accuracy' | tail -1)
    printf 'round %s  %-14s  wall %6.2f s  load(1min) %5s  %s\n' "$round" "$tree" \
      "$(echo "$end - $start" | bc)" "$load" "$last"
  done
done
rm -rf "$bin"
