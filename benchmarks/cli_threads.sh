#!/usr/bin/env bash
# The README's chapter-1 `train` command, timed with the default settings next to the BLAS
# thread count fixed at 1 and at all cores (TINYGRAD_NN_NUM_THREADS) and next to --no-compile,
# interleaved in rounds so the machine's load hits all of them alike.
# Usage: benchmarks/cli_threads.sh ROUNDS > log
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
cmd=("${PYTHON:-python}" -m tinygrad_nn train --spec 784-30-10:sigmoid,out=sigmoid --init nielsen_large
     --loss quadratic --optimizer sgd --lr 3.0 --batch-size 10 --epochs 30
     --data ../shared/data/mnist --no-progress)
echo "# ${cmd[*]}"
echo "# $(nproc) cores; OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-unset}"
for round in $(seq "$rounds"); do
  for setting in default 1 all eager; do
    env_setting=()
    extra=()
    case $setting in
      1) env_setting=(TINYGRAD_NN_NUM_THREADS=1) ;;
      all) env_setting=(TINYGRAD_NN_NUM_THREADS="$(nproc)") ;;
      eager) extra=(--no-compile) ;;
    esac
    load=$(cut -d' ' -f1 /proc/loadavg)
    start=$(date +%s.%N)
    env "${env_setting[@]}" "${cmd[@]}" "${extra[@]}" > /tmp/cli_threads_run.txt 2>&1
    end=$(date +%s.%N)
    peak=$(grep -o '^Epoch [0-9]*: [0-9]*' /tmp/cli_threads_run.txt | awk '{print $3}' | sort -n | tail -1)
    printf 'round %s  %-8s  wall %6.2f s  load(1min) %s  peak test %s / 10000\n' \
      "$round" "$setting" "$(echo "$end - $start" | bc)" "$load" "$peak"
  done
done
