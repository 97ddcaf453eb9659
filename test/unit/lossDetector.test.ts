import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { detectLosses, isLossName, nameWords, type LossSite } from '../../src/extension/codelens/lossDetector';
import { maskSource } from '../../src/extension/codelens/sourceMask';

const CORPUS = path.join(__dirname, '..', 'fixtures', 'codelens');
const LANGUAGE: Record<string, string> = { '.py': 'python', '.ts': 'typescript', '.js': 'javascript' };

/** Each corpus line that should get a lens carries a trailing `# lens: <loss>` or `// lens: <loss>`. */
function expectedLenses(text: string): Map<number, string> {
  const expected = new Map<number, string>();
  text.split('\n').forEach((line, i) => {
    const m = /(?:#|\/\/)\s*lens:\s*(\S+)\s*$/.exec(line);
    if (m) expected.set(i, m[1]);
  });
  return expected;
}

function detect(file: string): { text: string; sites: LossSite[] } {
  const text = readFileSync(path.join(CORPUS, file), 'utf8');
  return { text, sites: detectLosses(text, LANGUAGE[path.extname(file)]) };
}

describe('lossDetector', () => {
  describe('corpus (test/fixtures/codelens)', () => {
    const files = readdirSync(CORPUS).filter((f) => path.extname(f) in LANGUAGE);
    it('has positive and negative files in each language', () => {
      assert.ok(files.filter((f) => f.startsWith('negatives')).length >= 2);
      assert.ok(files.length >= 6);
    });
    for (const file of files) {
      it(`${file}: a lens exactly on the marked lines, with the marked loss`, () => {
        const { text, sites } = detect(file);
        const got = new Map(sites.map((s) => [s.line, s.loss as string]));
        const want = expectedLenses(text);
        const show = (m: Map<number, string>): string[] => [...m].map(([l, loss]) => `${l + 1}: ${loss} | ${text.split('\n')[l].trim()}`);
        assert.deepEqual(show(got), show(want));
        if (file.startsWith('negatives')) assert.equal(sites.length, 0);
      });
    }
  });

  it('names the symbol and its range on the line', () => {
    const { text, sites } = detect('torch_train.py');
    const focal = sites.find((s) => s.symbol === 'FocalLoss');
    assert.ok(focal);
    assert.equal(focal.origin, 'class');
    assert.equal(text.split('\n')[focal.line].slice(focal.start, focal.end), 'FocalLoss');
    const criterion = sites.find((s) => s.library === 'CrossEntropyLoss');
    assert.deepEqual(
      { symbol: criterion?.symbol, origin: criterion?.origin, fromLogits: criterion?.fromLogits },
      { symbol: 'nn.CrossEntropyLoss', origin: 'library', fromLogits: true },
    );
    const kl = sites.find((s) => s.library === 'KLDivLoss');
    assert.equal(kl?.loss, 'custom', 'a library loss the engine lacks is reported as custom, with its library name');
  });

  it('reads from_logits=True and compile(loss=…) values', () => {
    const { sites } = detect('keras_model.py');
    const sparse = sites.find((s) => s.library === 'SparseCategoricalCrossentropy');
    assert.equal(sparse?.fromLogits, true);
    const compiled = sites.filter((s) => s.origin === 'compile');
    assert.deepEqual(
      compiled.map((s) => [s.symbol, s.loss]),
      [
        ['sparse_categorical_crossentropy', 'categorical_crossentropy'],
        ['contrastive_loss', 'custom'],
        ['keras.losses.Huber', 'huber'],
      ],
    );
  });

  it('marks exported JS/TS loss functions', () => {
    const ts = detect('tfjs_train.ts').sites.filter((s) => s.origin === 'function');
    assert.deepEqual(
      ts.map((s) => [s.symbol, s.exported]),
      [
        ['focalLoss', true],
        ['smoothL1Loss', true],
      ],
    );
    const js = detect('losses.js').sites.filter((s) => s.origin === 'function');
    assert.deepEqual(
      js.map((s) => [s.symbol, s.exported]),
      [
        ['huberLoss', true],
        ['hingeLoss', true],
      ],
    );
    const unexported = detectLosses('function localLoss(a, b) { return a - b; }\n', 'javascript');
    assert.equal(unexported[0].exported, false);
  });

  it('ignores other languages', () => {
    assert.deepEqual(detectLosses('def focal_loss(x):\n  return x\n', 'ruby'), []);
    assert.equal(detectLosses('def focal_loss(x):\n  return x\n', 'python').length, 1);
    assert.equal(detectLosses('export function focalLoss() {}\n', 'typescriptreact').length, 1);
  });

  it('splits names into words', () => {
    assert.deepEqual(nameWords('focal_loss'), ['focal', 'loss']);
    assert.deepEqual(nameWords('contrastiveLossFn'), ['contrastive', 'loss', 'fn']);
    assert.deepEqual(nameWords('MSELoss'), ['mse', 'loss']);
    assert.deepEqual(nameWords('BCEWithLogitsLoss'), ['bce', 'with', 'logits', 'loss']);
    for (const yes of ['loss', 'focal_loss', 'FocalLoss', 'computeLoss', 'compute_losses', 'LOSS_FN']) assert.ok(isLossName(yes), yes);
    for (const no of ['lossless', 'loss_history', 'plotLoss', 'LossTracker', 'gloss', 'floss', 'lossCurve']) assert.ok(!isLossName(no), no);
  });

  it('masks comments and strings without moving anything', () => {
    const py = 'x = "def a_loss(" # def b_loss(\ny = 1\n';
    const masked = maskSource(py, 'python');
    assert.equal(masked.length, py.length);
    assert.equal(masked.split('\n').length, py.split('\n').length);
    assert.ok(!masked.includes('loss'));
    const js = "const a = 'x'; // loss\nconst r = /loss\\//; const d = 4 / 2; /* loss */ const t = `loss`;\n";
    const maskedJs = maskSource(js, 'js');
    assert.equal(maskedJs.length, js.length);
    assert.ok(!maskedJs.includes('loss'));
    assert.ok(maskedJs.includes('const d = 4 / 2;'));
  });
});
