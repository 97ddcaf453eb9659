// `npm run bench`: makes sure the demo model exists, then runs the TypeScript benchmarks.
import { spawnSync } from 'node:child_process';

const run = (args) => {
  const r = spawnSync('npx', args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run(['tsx', 'examples/mnist/prepare.ts']);
run(['tsx', 'scripts/bench/main.ts']);
