// Writes dist/README.md, the README packaged into the .vsix (package.json `vsce.readmePath`).
// vsce 3.9 requires every image of the packaged README to be an https URL and every relative
// link to be rewritten against a repository URL; this project has no public repository, so the
// packaged README is README.md with relative images and links turned into plain text naming the
// file (the images themselves ship in the package's media/). README.md stays the one source.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const isRelative = (link) => !/^\w+:\/\//.test(link) && !link.startsWith('#') && !/^mailto:/i.test(link);
// The same link syntax vsce rewrites (src/package.ts, MarkdownProcessor).
const markdownLink = /(!?)\[([^\][]*|!\[[^\][]*]\([^)]+\))\]\(([^)]+)\)/g;

const text = readFileSync(path.join(root, 'README.md'), 'utf8').replace(markdownLink, (all, bang, title, link) => {
  if (!isRelative(link)) return all;
  return bang ? `*(screenshot: ${title} — ${link} in the package)*` : `${title} (${link} in the source tree)`;
});
mkdirSync(path.join(root, 'dist'), { recursive: true });
writeFileSync(path.join(root, 'dist', 'README.md'), text);
console.log('wrote dist/README.md (the packaged README)');
