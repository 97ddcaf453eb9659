#!/usr/bin/env bash
# Float64 references for test/reference/demoHessianTop5.test.ts: the demo MLP (trained once by
# examples/mnist/prepare.ts), the torch venv (scripts/setup-torch.sh, offline wheels, with
# scipy), then scripts/reference/demoHessianReference.ts (torch float64 Hessian products +
# scipy eigsh per seed's sample subset; cached by the hashes of model, data and scripts).
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsx examples/mnist/prepare.ts
bash scripts/setup-torch.sh --no-apt
npx tsx scripts/reference/demoHessianReference.ts "${LOSSCAPE_TORCH_VENV:-.tools/torch-venv}/bin/python"
