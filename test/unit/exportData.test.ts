import { strict as assert } from 'node:assert';
import { exportBytes, exportFileName } from '../../src/extension/panels/exportData';

const PNG_1x1 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

describe('panel exports', () => {
  it('writes SVG and CSV as UTF-8 text', () => {
    const bytes = exportBytes({ type: 'export', format: 'csv', suggestedName: 'grid', data: 'α,β\n1,2\n' });
    assert.equal(new TextDecoder().decode(bytes), 'α,β\n1,2\n');
  });

  it('decodes a PNG data URL and refuses anything else', () => {
    const bytes = exportBytes({ type: 'export', format: 'png', suggestedName: 'x', data: `data:image/png;base64,${PNG_1x1}` });
    assert.deepEqual([...bytes.slice(1, 4)], [0x50, 0x4e, 0x47]);
    assert.throws(() => exportBytes({ type: 'export', format: 'png', suggestedName: 'x', data: 'data:image/jpeg;base64,AAAA' }), /not a base64 PNG/);
    assert.throws(() => exportBytes({ type: 'export', format: 'png', suggestedName: 'x', data: 'data:image/png;base64,AAAAAAAAAAAA' }), /does not hold a PNG/);
  });

  it('names the file with the format extension once', () => {
    assert.equal(exportFileName({ type: 'export', format: 'svg', suggestedName: 'landscape.svg', data: '' }), 'landscape.svg');
    assert.equal(exportFileName({ type: 'export', format: 'png', suggestedName: 'landscape', data: '' }), 'landscape.png');
  });
});
