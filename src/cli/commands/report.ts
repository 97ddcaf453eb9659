import { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { buildReportHtml } from '../../shared/report';
import { parseResult } from '../../shared/result';

/** Reads result files and writes one self-contained HTML report drawn by the webview's own D3 code. */
export function reportCommand(): Command {
  return new Command('report')
    .description('write one self-contained, offline HTML report of result files, drawn with the same D3 code as the VS Code panels')
    .argument('<results...>', '*.losscape.json files')
    .requiredOption('--out <file.html>', 'HTML file to write')
    .option('--title <text>', 'report title', 'Losscape report')
    .action((files: string[], f: { out: string; title: string }) => {
      try {
        const entries = files.map((file) => {
          let json: unknown;
          try {
            json = JSON.parse(readFileSync(file, 'utf8'));
          } catch (err) {
            throw new Error(`${file}: ${existsSync(file) ? `not JSON (${(err as Error).message})` : 'not found'}`);
          }
          return { title: path.basename(file).replace(/\.losscape\.json$/, ''), result: parseResult(json, file) };
        });
        const assets = assetDir();
        const html = buildReportHtml(entries, readFileSync(path.join(assets.dist, 'webview.js'), 'utf8'), readFileSync(path.join(assets.media, 'losscape.css'), 'utf8'), {
          title: f.title,
          nonce: randomBytes(16).toString('base64'),
        });
        writeFileSync(f.out, html);
        process.stdout.write(`wrote ${path.resolve(f.out)} (${entries.length} result${entries.length === 1 ? '' : 's'})\n`);
      } catch (err) {
        process.stderr.write(`losscape report: ${(err as Error).message}\n`);
        process.exitCode = 2;
      }
    });
}

/** dist/ holds the webview bundle beside this CLI; media/ is its sibling. */
function assetDir(): { dist: string; media: string } {
  const dist = __dirname;
  return { dist, media: path.join(dist, '..', 'media') };
}
