#!/usr/bin/env bash
# Sets up the Python environments the torch engine is tested on, without network access:
#   .tools/torch-venv   torch 2.13.0 (CPU) + numpy + safetensors + scipy + pytest + pytorch-metric-learning
#                       (the multi-similarity loss's reference, python/tests/test_paper_losses.py), from the wheel
#                       index this machine image carries (pip config list shows it)
#   /usr/bin/python3    Debian's python3-torch (1.13), the oldest torch the worker supports
# Idempotent: a stamp file records what was installed; a second run does nothing.
# Usage: scripts/setup-torch.sh [--no-apt]   (LOSSCAPE_TORCH_VENV overrides the venv path)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${LOSSCAPE_TORCH_VENV:-.tools/torch-venv}"
TORCH_VERSION="2.13.0"
STAMP="$VENV/.losscape-setup-$TORCH_VERSION"
WANT_APT=1
[[ "${1:-}" == "--no-apt" ]] && WANT_APT=0

# The image's offline index: the first index pip is configured with (global.index-url, else the
# first extra-index-url), passed as --index-url so pip never tries the unreachable default one.
pip_index() {
  local cfg idx
  cfg="$(python3 -m pip config list 2>/dev/null || true)"
  idx="$(sed -n "s/^global\.index-url='\([^' ]*\).*/\1/p" <<<"$cfg" | head -1)"
  [[ -z "$idx" ]] && idx="$(sed -n "s/^global\.extra-index-url='\([^' ]*\).*/\1/p" <<<"$cfg" | head -1)"
  [[ -z "$idx" && -d /opt/pypi/simple ]] && idx="file:///opt/pypi/simple"
  echo "$idx"
}

if [[ -f "$STAMP" ]] && "$VENV/bin/python" -c "import torch, numpy, pytest, pytorch_metric_learning" 2>/dev/null; then
  echo "setup-torch: $VENV has torch $("$VENV/bin/python" -c 'import torch; print(torch.__version__)') (cached)"
else
  INDEX="$(pip_index)"
  ARGS=()
  if [[ -n "$INDEX" ]]; then
    ARGS+=(--index-url "$INDEX")
    # The other configured indexes and wheel folders stay available.
    cfg="$(python3 -m pip config list 2>/dev/null || true)"
    for extra in $(sed -n "s/^global\.extra-index-url='\(.*\)'/\1/p" <<<"$cfg"); do
      [[ "$extra" != "$INDEX" ]] && ARGS+=(--extra-index-url "$extra")
    done
    for fl in $(sed -n "s/^global\.find-links='\(.*\)'/\1/p" <<<"$cfg"); do ARGS+=(--find-links "$fl"); done
  fi
  echo "setup-torch: creating $VENV (torch $TORCH_VERSION, index ${INDEX:-pip default})"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet "${ARGS[@]}" \
    "torch==$TORCH_VERSION" numpy safetensors scipy pytest pytorch-metric-learning 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  "$VENV/bin/python" -c "import torch; assert torch.__version__.startswith('$TORCH_VERSION'), torch.__version__"
  touch "$STAMP"
  echo "setup-torch: $VENV ready"
fi

if [[ "$WANT_APT" == 1 ]]; then
  if /usr/bin/python3 -c "import torch, numpy" 2>/dev/null; then
    echo "setup-torch: /usr/bin/python3 has torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') (cached)"
  elif command -v apt-get >/dev/null && [[ "$(id -u)" == 0 ]]; then
    echo "setup-torch: installing Debian's python3-torch (the oldest supported torch)"
    # Several set-up scripts may run apt at once on a shared machine: wait for the lock.
    apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }
    apt_get install -y -q --no-install-recommends python3-torch python3-numpy python3-pytest >/dev/null \
      || { apt_get update -q >/dev/null && apt_get install -y -q --no-install-recommends python3-torch python3-numpy python3-pytest >/dev/null; }
    /usr/bin/python3 -c "import torch; print('setup-torch: /usr/bin/python3 has torch', torch.__version__)"
  else
    echo "setup-torch: cannot install python3-torch (needs root and apt-get); the torch 1.13 smoke tests will fail" >&2
  fi
fi
