import { strict as assert } from 'node:assert';
import { lensAgainstConfiguration } from '../../src/extension/codelens/lensAgainstConfiguration';
import { lensLoss, lensRunnable } from '../../src/extension/codelens/lensLoss';
import { detectLosses, type LossSite } from '../../src/extension/codelens/lossDetector';
import type { RunConfiguration } from '../../src/extension/config/runConfig';
import { SUPPORTED_LOSSES } from '../../src/shared/lossNames';

function site(text: string, languageId: string, symbol: string): LossSite {
  const s = detectLosses(text, languageId).find((x) => x.symbol === symbol || x.library === symbol);
  if (!s) throw new Error(`no site ${symbol}`);
  return s;
}

const ce = (): ReturnType<typeof lensLoss> => lensLoss({ site: site('x = 1\ncriterion = nn.CrossEntropyLoss()\n', 'python', 'CrossEntropyLoss'), languageId: 'python', filePath: '/w/t.py' }, false);

describe('CodeLens → loss to run', () => {
  it('runs a library loss under its engine name, stating its convention without forcing it', () => {
    assert.deepEqual(ce(), {
      overrides: {
        loss: 'categorical_crossentropy',
        // No fromLogits: on a softmax-final model PyTorch's "logits" are the pre-softmax values,
        // which the engine's last-activation rule computes; the stated convention is recorded.
        lossFrom: { source: 'lens', file: '/w/t.py', line: 2, symbol: 'nn.CrossEntropyLoss', library: 'CrossEntropyLoss', semantics: 'logits' },
      },
    });
  });

  it('explains a library loss the engine lacks; runs a custom Python loss on the torch engine (trusted workspaces only)', () => {
    const kl = lensLoss({ site: site('kl = nn.KLDivLoss()\n', 'python', 'KLDivLoss'), languageId: 'python', filePath: '/w/t.py' }, true);
    assert.ok('message' in kl && /KLDivLoss is not one of the losses/.test(kl.message) && kl.message.includes(SUPPORTED_LOSSES));
    const py = lensLoss({ site: site('def focal_loss(p, y):\n  return p\n', 'python', 'focal_loss'), languageId: 'python', filePath: '/w/t.py' }, true);
    assert.ok('overrides' in py && py.overrides.lossModule?.path === '/w/t.py' && py.overrides.lossModule.export === 'focal_loss');
    const cls = lensLoss({ site: site('class FocalLoss(nn.Module):\n  def forward(self, x, y):\n    return x\n', 'python', 'FocalLoss'), languageId: 'python', filePath: '/w/t.py' }, true);
    assert.ok('overrides' in cls && cls.overrides.lossModule?.export === 'FocalLoss');
    const untrusted = lensLoss({ site: site('def focal_loss(p, y):\n  return p\n', 'python', 'focal_loss'), languageId: 'python', filePath: '/w/t.py' }, false);
    assert.ok('message' in untrusted && untrusted.trust === true && /PyTorch engine/.test(untrusted.message));
  });

  it('runs an exported JS/TS loss from its module only in a trusted workspace', () => {
    const exported = site('export function focalLoss(y, p) { return p; }\n', 'typescript', 'focalLoss');
    assert.deepEqual(lensLoss({ site: exported, languageId: 'typescript', filePath: '/w/l.ts' }, true), {
      overrides: { lossModule: { path: '/w/l.ts', export: 'focalLoss' }, lossFrom: { source: 'lens', file: '/w/l.ts', line: 1, symbol: 'focalLoss' } },
    });
    const untrusted = lensLoss({ site: exported, languageId: 'typescript', filePath: '/w/l.ts' }, false);
    assert.ok('message' in untrusted && untrusted.trust === true && /not trusted/.test(untrusted.message));
    const local = site('function focalLoss(y, p) { return p; }\n', 'javascript', 'focalLoss');
    const notExported = lensLoss({ site: local, languageId: 'javascript', filePath: '/w/l.js' }, true);
    assert.ok('message' in notExported && /Export focalLoss/.test(notExported.message));
  });

  it('knows which lenses cannot run at all (one lens row saying why, not three)', () => {
    // A custom Python loss runs on the torch engine (a function, or an nn.Module class).
    assert.equal(lensRunnable(site('def focal_loss(p, y):\n  return p\n', 'python', 'focal_loss'), 'python'), true);
    assert.equal(lensRunnable(site('class MyLoss(nn.Module):\n  pass\n', 'python', 'MyLoss'), 'python'), true);
    assert.equal(lensRunnable(site('kl = nn.KLDivLoss()\n', 'python', 'KLDivLoss'), 'python'), false);
    assert.equal(lensRunnable(site('c = nn.CrossEntropyLoss()\n', 'python', 'CrossEntropyLoss'), 'python'), true);
    assert.equal(lensRunnable(site('export function focalLoss(y, p) { return p; }\n', 'typescript', 'focalLoss'), 'typescript'), true);
  });
});

describe("CodeLens's loss against the configuration's", () => {
  const base: RunConfiguration = { name: 'demo 2D', analysis: 'landscape', model: 'm/model.json', data: 'd.npz' };
  const lens = (): NonNullable<Extract<ReturnType<typeof lensLoss>, { overrides: unknown }>['overrides']> => {
    const r = ce();
    if (!('overrides' in r)) throw new Error('CE runs');
    return r.overrides;
  };

  it('the configuration names the same engine loss: the configuration runs as configured, no lens record', () => {
    const r = lensAgainstConfiguration({ ...base, loss: 'sparse_categorical_crossentropy', fromLogits: false }, { ...lens(), dims: 2 });
    assert.deepEqual(r, { overrides: { dims: 2 } });
  });

  it('the configuration names another loss: the lens loss runs, the configured one is recorded, and a warning says so', () => {
    const r = lensAgainstConfiguration({ ...base, loss: 'mse' }, lens());
    assert.equal(r.overrides.loss, 'categorical_crossentropy');
    assert.equal(r.overrides.lossFrom?.configured, 'mse');
    assert.match(r.warning ?? '', /CrossEntropyLoss \(categorical_crossentropy\) on configuration "demo 2D", whose "loss" is "mse"/);
    const gce = lensAgainstConfiguration({ ...base, loss: { name: 'gce', params: { q: 0.7 } } }, lens());
    assert.equal(gce.overrides.lossFrom?.configured, 'gce', 'a parameterised loss is named by its name');
    assert.ok(gce.warning);
    const mod = lensAgainstConfiguration({ ...base, lossModule: 'src/l.js', lossExport: 'myLoss' }, lens());
    assert.equal(mod.overrides.lossFrom?.configured, 'src/l.js#myLoss');
    assert.ok(mod.warning);
  });

  it('the configuration names no loss: the lens loss runs, recorded as the lens\'s, without a warning', () => {
    const r = lensAgainstConfiguration(base, lens());
    assert.deepEqual(r.overrides, lens());
    assert.equal(r.warning, undefined);
  });

  it('leaves runs without a lens alone', () => {
    assert.deepEqual(lensAgainstConfiguration({ ...base, loss: 'mse' }, { dims: 1 }), { overrides: { dims: 1 } });
  });
});
