import { strict as assert } from 'node:assert';
import { lensLoss } from '../../src/extension/codelens/lensLoss';
import { detectLosses, type LossSite } from '../../src/extension/codelens/lossDetector';

function site(text: string, languageId: string, symbol: string): LossSite {
  const s = detectLosses(text, languageId).find((x) => x.symbol === symbol || x.library === symbol);
  if (!s) throw new Error(`no site ${symbol}`);
  return s;
}

describe('CodeLens → loss to run', () => {
  it('runs a library loss under its engine name, with its output convention', () => {
    const s = site('criterion = nn.CrossEntropyLoss()\n', 'python', 'CrossEntropyLoss');
    assert.deepEqual(lensLoss({ site: s, languageId: 'python', filePath: '/w/t.py' }, false), { overrides: { loss: 'categorical_crossentropy', fromLogits: true } });
  });

  it('explains a library loss the engine lacks; runs a custom Python loss on the torch engine (trusted workspaces only)', () => {
    const kl = lensLoss({ site: site('kl = nn.KLDivLoss()\n', 'python', 'KLDivLoss'), languageId: 'python', filePath: '/w/t.py' }, true);
    assert.ok('message' in kl && /KLDivLoss is not one of the losses/.test(kl.message) && kl.message.includes('categorical_crossentropy'));
    const py = lensLoss({ site: site('def focal_loss(p, y):\n  return p\n', 'python', 'focal_loss'), languageId: 'python', filePath: '/w/t.py' }, true);
    assert.deepEqual(py, { overrides: { lossModule: { path: '/w/t.py', export: 'focal_loss' } } });
    const cls = lensLoss({ site: site('class FocalLoss(nn.Module):\n  def forward(self, x, y):\n    return x\n', 'python', 'FocalLoss'), languageId: 'python', filePath: '/w/t.py' }, true);
    assert.deepEqual(cls, { overrides: { lossModule: { path: '/w/t.py', export: 'FocalLoss' } } });
    const untrusted = lensLoss({ site: site('def focal_loss(p, y):\n  return p\n', 'python', 'focal_loss'), languageId: 'python', filePath: '/w/t.py' }, false);
    assert.ok('message' in untrusted && untrusted.trust === true && /PyTorch engine/.test(untrusted.message));
  });

  it('runs an exported JS/TS loss from its module only in a trusted workspace', () => {
    const exported = site('export function focalLoss(y, p) { return p; }\n', 'typescript', 'focalLoss');
    assert.deepEqual(lensLoss({ site: exported, languageId: 'typescript', filePath: '/w/l.ts' }, true), {
      overrides: { lossModule: { path: '/w/l.ts', export: 'focalLoss' } },
    });
    const untrusted = lensLoss({ site: exported, languageId: 'typescript', filePath: '/w/l.ts' }, false);
    assert.ok('message' in untrusted && untrusted.trust === true && /not trusted/.test(untrusted.message));
    const local = site('function focalLoss(y, p) { return p; }\n', 'javascript', 'focalLoss');
    const notExported = lensLoss({ site: local, languageId: 'javascript', filePath: '/w/l.js' }, true);
    assert.ok('message' in notExported && /Export focalLoss/.test(notExported.message));
  });
});
