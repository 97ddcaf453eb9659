// Preloaded into the engine process by the fault tests (NODE_OPTIONS=--require …): the faults
// a real machine produces, at a chosen moment, without touching the product's code.
//   LOSSCAPE_TEST_FAULT=enospc-json     every write to a result JSON's temporary fails with ENOSPC
//   LOSSCAPE_TEST_FAULT=enospc-sidecar  every write to a sidecar's temporary fails with ENOSPC
//   LOSSCAPE_TEST_FAULT=kill-after-sidecar  the engine is SIGKILLed right after a sidecar is renamed
//                                       into place, before the JSON that names it is written
//   LOSSCAPE_TEST_FAULT=pace-json        the engine pauses LOSSCAPE_TEST_PACE_MS (default 300) after
//                                       each result JSON it puts in place, so that a test can stop a
//                                       small grid part way (the points themselves are unchanged);
//                                       over REWRITE_EVERY_MS (landscapeGrid.ts), so every row is written
'use strict';
const fs = require('node:fs');

const mode = process.env.LOSSCAPE_TEST_FAULT;
const isEngine = /engine\.js$/.test(process.argv[1] || '');
if (mode && isEngine) {
  const target = mode === 'enospc-json' ? /\.json\.tmp-\d+-\d+$/ : /\.[0-9a-f]{12}\.bin\.tmp-\d+-\d+$/;
  if (mode.startsWith('enospc')) {
    const doomed = new Set();
    const openSync = fs.openSync;
    fs.openSync = function (p, ...rest) {
      const fd = openSync.call(this, p, ...rest);
      if (typeof p === 'string' && target.test(p)) doomed.add(fd);
      return fd;
    };
    const closeSync = fs.closeSync;
    fs.closeSync = function (fd) {
      doomed.delete(fd);
      return closeSync.call(this, fd);
    };
    const full = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    for (const name of ['writeSync', 'writeFileSync']) {
      const real = fs[name];
      fs[name] = function (fd, ...rest) {
        if (doomed.has(fd)) {
          // A partial write first, as a full disk does.
          if (name === 'writeSync') real.call(this, fd, Buffer.from('{"sch'));
          throw full();
        }
        return real.call(this, fd, ...rest);
      };
    }
  } else if (mode === 'pace-json') {
    const pause = Number(process.env.LOSSCAPE_TEST_PACE_MS || 300);
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const renameSync = fs.renameSync;
    fs.renameSync = function (from, to) {
      renameSync.call(this, from, to);
      if (typeof to === 'string' && /\.losscape\.json$/.test(to)) Atomics.wait(cell, 0, 0, pause);
    };
  } else if (mode === 'kill-after-sidecar') {
    const renameSync = fs.renameSync;
    fs.renameSync = function (from, to) {
      renameSync.call(this, from, to);
      if (typeof to === 'string' && /\.[0-9a-f]{12}\.bin$/.test(to)) process.kill(process.pid, 'SIGKILL');
    };
  }
}
