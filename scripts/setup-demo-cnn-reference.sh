#!/usr/bin/env bash
# Float64 references for test/reference/demoCnn.test.ts: the demo-digits CNN (20,618
# parameters) trained on the first demo digits with three checkpoints, then torch float64 +
# scipy eigsh on them (scripts/reference/demoCnnReference.ts; cached by the scripts' hashes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-torch.sh --no-apt
npx tsx scripts/reference/demoCnnReference.ts "${LOSSCAPE_TORCH_VENV:-.tools/torch-venv}/bin/python"
