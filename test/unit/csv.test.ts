import assert from 'node:assert/strict';
import { parseCsv } from '../../src/engine/loaders/csv';
import { InputError } from '../../src/shared/errors';

describe('csv', () => {
  it('reads features and integer labels as class indices, label column anywhere', () => {
    const d = parseCsv('a,label,b\n1,0,2\n3.5,2,-4\n', 'iris.csv', 'label');
    assert.deepEqual(d.featureColumns, ['a', 'b']);
    assert.deepEqual(d.xShape, [2, 2]);
    assert.deepEqual(Array.from(d.x), [1, 2, 3.5, -4]);
    assert.deepEqual(d.yShape, [2]);
    assert.deepEqual(Array.from(d.y), [0, 2]);
    assert.equal(d.labelsAreIndices, true);
  });

  it('reads integral labels written as floats (pandas 1.0) as class indices', () => {
    assert.equal(parseCsv('x,y\n1,1.0\n2,0.0\n', 'p.csv', 'y').labelsAreIndices, true);
  });

  it('reads fractional labels as regression targets', () => {
    const d = parseCsv('x1,x2,price\n1,2,3.25\n4,5,6\n', 'houses.csv', 'price');
    assert.deepEqual(Array.from(d.y), [3.25, 6]);
    assert.equal(d.labelsAreIndices, false);
  });

  it('reads negative integer labels as regression targets', () => {
    assert.equal(parseCsv('x,t\n1,-1\n2,1\n', 't.csv', 't').labelsAreIndices, false);
  });

  it('handles CRLF, a BOM, blank lines, quotes and spaces', () => {
    const d = parseCsv('\uFEFFf1, "f2" ,label\r\n 1 , "2" ,1\r\n\r\n3,4,0\r\n', 'win.csv', 'label');
    assert.deepEqual(d.featureColumns, ['f1', 'f2']);
    assert.deepEqual(Array.from(d.x), [1, 2, 3, 4]);
    assert.deepEqual(Array.from(d.y), [1, 0]);
  });

  it('reads semicolon- and tab-separated files', () => {
    assert.deepEqual(Array.from(parseCsv('a;b;label\n1.5;2;1\n', 'eu.csv', 'label').x), [1.5, 2]);
    assert.deepEqual(Array.from(parseCsv('a\tb\tlabel\n3\t4\t0\n', 't.tsv', 'label').x), [3, 4]);
  });

  describe('bad input', () => {
    it('lists the available columns when the label column is missing', () => {
      assert.throws(() => parseCsv('sepal,petal,species\n1,2,0\n', 'iris.csv', 'label'), (e: Error) => {
        assert.ok(e instanceof InputError);
        assert.equal(e.message, "iris.csv: has no label column 'label'; columns are: sepal, petal, species (choose one with the labelColumn option)");
        return true;
      });
    });

    it('names the line and column of a non-numeric cell', () => {
      assert.throws(
        () => parseCsv('a,b,label\n1,2,0\n3,abc,1\n', 'd.csv', 'label'),
        /^InputError: d\.csv: line 3, column 'b': 'abc' is not a number/,
      );
    });

    it('counts lines past blank lines and names empty cells', () => {
      assert.throws(() => parseCsv('a,label\n1,0\n\n\n,1\n', 'd.csv', 'label'), /d\.csv: line 5, column 'a': an empty cell is not a number/);
    });

    it('refuses a non-numeric label', () => {
      assert.throws(() => parseCsv('a,label\n1,cat\n', 'd.csv', 'label'), /d\.csv: line 2, column 'label': 'cat' is not a number/);
    });

    it('refuses a file without a header row', () => {
      assert.throws(() => parseCsv('1,2,0\n3,4,1\n', 'nohead.csv', 'label'), /nohead\.csv: has no header row.*'label'/);
    });

    it('refuses rows with the wrong number of cells, naming the line', () => {
      assert.throws(() => parseCsv('a,b,label\n1,2,0\n3,1\n', 'ragged.csv', 'label'), /^InputError: ragged\.csv: is not valid CSV: .*line 3/);
    });

    it('refuses empty files, header-only files and label-only files', () => {
      assert.throws(() => parseCsv('', 'e.csv', 'label'), /e\.csv: is empty/);
      assert.throws(() => parseCsv('a,label\n', 'h.csv', 'label'), /h\.csv: has a header row but no data rows/);
      assert.throws(() => parseCsv('label\n1\n', 'l.csv', 'label'), /l\.csv: has only the label column 'label'/);
    });

    it('refuses duplicate column names', () => {
      assert.throws(() => parseCsv('a,a,label\n1,2,0\n', 'dup.csv', 'label'), /dup\.csv: has two columns named 'a'/);
    });
  });
});
