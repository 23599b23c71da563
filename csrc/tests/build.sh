#!/bin/sh
# Build the C test driver (or the C benchmark) with the extension's per-group flags.
#   csrc/tests/build.sh CC ARCH OUT MAIN.c [extra flags for every file, e.g. sanitizers]
# ARCH (x86_64 | aarch64) picks which ISA sources join the scalar ones.
set -eu
CC=$1 ARCH=$2 OUT=$3 MAIN=$4
shift 4
EXTRA="$*"
flags() { sed -n "s/^$1:[[:space:]]*//p" csrc/isa_flags.txt; }
COMMON="$(flags common) -Icsrc/include $EXTRA"
OBJDIR="$OUT.objs"
mkdir -p "$OBJDIR"
OBJS=""
compile() { # source, group
  obj="$OBJDIR/$(echo "$1" | tr / _).o"
  # shellcheck disable=SC2046,SC2086
  $CC $COMMON $(flags "$2") -c "$1" -o "$obj"
  OBJS="$OBJS $obj"
}
for f in csrc/*/*_scalar.c; do compile "$f" scalar; done
case "$ARCH" in
  x86_64) for f in csrc/*/*_avx2.c; do compile "$f" avx2; done
          for f in csrc/*/*_avx512.c; do compile "$f" avx512; done ;;
  aarch64) for f in csrc/*/*_neon.c; do compile "$f" neon; done ;;
esac
for f in csrc/dispatch/*.c csrc/threads/*.c csrc/gemm/gemm.c csrc/layers/linear.c csrc/rnn/rnn.c "$MAIN"; do
  compile "$f" base
done
# shellcheck disable=SC2086
$CC $OBJS -o "$OUT" -pthread $EXTRA -lsleef -lm
