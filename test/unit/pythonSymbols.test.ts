import assert from 'node:assert/strict';
import { lossCandidates, modelCandidates, pythonSymbols } from '../../src/extension/config/pythonSymbols';

describe('Python symbols for Add Configuration (PyTorch model and loss QuickPicks)', () => {
  const text = [
    'import torch',
    'from torch import nn',
    '',
    'class Helper:',
    '    def method(self):',
    '        pass',
    '',
    'class TinyNet(nn.Module):',
    '    def __init__(self):',
    '        super().__init__()',
    '',
    'def make_net(width=8):',
    '    return TinyNet()',
    '',
    'def focal_loss(logits, target, gamma=2.0):',
    '    return logits',
    '',
    'class FocalLoss(nn.Module):',
    '    pass',
    '',
    'def _private():',
    '    pass',
  ].join('\n');

  it('reads the top-level classes (with bases) and public functions (with parameters), not methods', () => {
    assert.deepEqual(pythonSymbols(text), [
      { name: 'Helper', kind: 'class', detail: '', line: 3 },
      { name: 'TinyNet', kind: 'class', detail: 'nn.Module', line: 7 },
      { name: 'make_net', kind: 'function', detail: 'width=8', line: 11 },
      { name: 'focal_loss', kind: 'function', detail: 'logits, target, gamma=2.0', line: 14 },
      { name: 'FocalLoss', kind: 'class', detail: 'nn.Module', line: 17 },
    ]);
  });

  it('offers nn.Module classes first for a model (losses last), loss-like names first for a loss', () => {
    const s = pythonSymbols(text);
    assert.deepEqual(modelCandidates(s).map((x) => x.name), ['TinyNet', 'Helper', 'make_net', 'focal_loss', 'FocalLoss']);
    assert.deepEqual(lossCandidates(s).map((x) => x.name), ['focal_loss', 'FocalLoss', 'Helper', 'TinyNet', 'make_net']);
  });
});
