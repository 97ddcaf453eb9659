#!/usr/bin/env bash
# Real Keras files for the loader tests: a venv under .tools/keras-venv with tensorflow-cpu 2.21
# and keras 3.15 (offline, from the machine's wheel index — `pip config list`), then
# test/fixtures/keras-generated/ written by scripts/keras/generate_fixtures.py: .keras and .h5
# files saved by Keras itself, with Keras's own predictions and losses beside them.
# Idempotent: the venv is made once; the fixtures are regenerated only when the generator's
# SHA-256 (recorded in the folder's STAMP) changes.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.tools/keras-venv
OUT=test/fixtures/keras-generated
GEN=scripts/keras/generate_fixtures.py

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import keras, tensorflow, h5py' 2>/dev/null; then
  echo "setup-keras: creating $VENV (tensorflow-cpu 2.21, keras 3.15)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --index-url file:///opt/pypi/simple --extra-index-url file:///opt/pypi-more/simple --find-links /opt/wheels 'tensorflow-cpu==2.21.*' 'keras==3.15.*' h5py numpy
fi

stamp="$(sha256sum "$GEN" | cut -d' ' -f1)"
if [ -f "$OUT/STAMP" ] && [ "$(cat "$OUT/STAMP")" = "$stamp" ]; then
  echo "setup-keras: $OUT is current"
  exit 0
fi
echo "setup-keras: generating $OUT"
rm -rf "$OUT.tmp"
mkdir -p "$OUT.tmp"
TF_CPP_MIN_LOG_LEVEL=3 CUDA_VISIBLE_DEVICES= "$VENV/bin/python" "$GEN" "$OUT.tmp"
echo "$stamp" > "$OUT.tmp/STAMP"
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
echo "setup-keras: done"
