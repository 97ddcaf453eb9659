#!/usr/bin/env node
// The CLI bundle is built by `npm ci`/`npm install` (the prepare script); a checkout installed
// with --ignore-scripts builds it here on first use.
const { existsSync } = require('node:fs');
const path = require('node:path');
const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!existsSync(cli)) {
  const build = path.join(__dirname, '..', 'scripts', 'build.mjs');
  const r = require('node:child_process').spawnSync(process.execPath, [build], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0 || !existsSync(cli)) {
    process.stderr.write(`losscape: ${path.relative(process.cwd(), cli)} is missing and building it failed; run npm run build\n`);
    process.exit(1);
  }
}
require(cli);
