#!/bin/bash
# Before/after of a change: `python -m benchmarks.quick_step` run from two source trees in turn
# (A B A B ...), N times each, printing each run's compiled row (its ratios to the NumPy floor
# are interleaved within that run). One BLAS thread; $PYTHON picks the interpreter.
#   benchmarks/ab_trees.sh OLD_TREE NEW_TREE N [quick_step arguments...]
old=$1; new=$2; n=$3; shift 3
for _ in $(seq "$n"); do
  for tree in "$old" "$new"; do
    echo "$tree $(cd "$tree" && PYTHONPATH=$tree OPENBLAS_NUM_THREADS=1 \
      "${PYTHON:-python}" -m benchmarks.quick_step "$@" | grep compiled)"
  done
done
