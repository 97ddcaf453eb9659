import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseRunConfigurations } from '../../src/extension/config/runConfig';

/** The demo workspace's run configurations stay valid as the schema evolves. */
describe('demo workspace run configurations', () => {
  it('examples/mnist/.vscode/losscape.json parses, with one configuration per analysis it offers', () => {
    const file = path.resolve(__dirname, '../../examples/mnist/.vscode/losscape.json');
    const parsed = parseRunConfigurations(readFileSync(file, 'utf8'), file);
    assert.deepEqual(parsed.problems, []);
    assert.equal(parsed.configurations.length, 7);
    const kinds = new Set(parsed.configurations.map((c) => c.analysis));
    for (const k of ['landscape', 'hessian', 'sharpness', 'grokking', 'trajectory']) assert.ok(kinds.has(k as never), `no ${k} configuration`);
  });
});
