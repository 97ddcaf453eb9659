import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { COMMANDS, LENS_COMMAND, RESULT_VIEW_TYPE, RUNNING_CONTEXT_KEY } from '../../src/extension/commands/commandIds';

const root = path.join(__dirname, '..', '..');
interface Manifest {
  main: string;
  activationEvents: string[];
  contributes: {
    commands: { command: string; title: string; category: string }[];
    jsonValidation: { fileMatch: string; url: string }[];
    customEditors: { viewType: string; selector: { filenamePattern: string }[] }[];
    menus: { commandPalette: { command: string; when: string }[] };
  };
}
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Manifest;

describe('extension manifest (package.json)', () => {
  it('activates only on commands, languages, the result editor, a restored panel and a losscape.json — never "*"', () => {
    assert.ok(!pkg.activationEvents.includes('*'));
    for (const e of pkg.activationEvents) {
      assert.match(e, /^(onCommand:losscape\.|onLanguage:(python|typescript|javascript|csv)$|onCustomEditor:losscape\.result$|onWebviewPanel:losscape\.panel$|workspaceContains:\.vscode\/losscape\.json$)/, e);
    }
  });

  it('contributes every command with the Losscape category, as src/extension registers them', () => {
    const contributed = new Map(pkg.contributes.commands.map((c) => [c.command, c]));
    for (const { id, title } of Object.values(COMMANDS)) {
      assert.equal(contributed.get(id)?.title, title, id);
      assert.equal(contributed.get(id)?.category, 'Losscape', id);
      assert.ok(pkg.activationEvents.includes(`onCommand:${id}`), id);
    }
    assert.equal(contributed.size, Object.keys(COMMANDS).length + 1);
    // The lens command is never offered; Cancel Analysis only while one runs (the runner sets the key).
    assert.deepEqual(pkg.contributes.menus.commandPalette, [
      { command: LENS_COMMAND, when: 'false' },
      { command: 'losscape.cancelAnalysis', when: RUNNING_CONTEXT_KEY },
    ]);
  });

  it('contributes the run-configuration schema and the result editor', () => {
    const v = pkg.contributes.jsonValidation.find((j) => j.fileMatch === '.vscode/losscape.json');
    assert.ok(v && existsSync(path.join(root, v.url)));
    const editor = pkg.contributes.customEditors.find((e) => e.viewType === RESULT_VIEW_TYPE);
    assert.deepEqual(editor?.selector, [{ filenamePattern: '*.losscape.json' }]);
    assert.equal(pkg.main, './dist/extension.js');
  });

  it('packages a LICENSE and a .vscodeignore that keeps sources and tests out', () => {
    assert.ok(existsSync(path.join(root, 'LICENSE')));
    const ignore = readFileSync(path.join(root, '.vscodeignore'), 'utf8');
    for (const p of ['src/**', 'test/**', 'node_modules/**']) assert.ok(ignore.includes(p), p);
  });
});
