/**
 * Every relative link in the repository's markdown (the README and docs/) leads somewhere: the file
 * exists, and an #anchor matches a heading of the target the way GitHub makes heading ids. Pages get
 * moved and headings renamed; this is what notices the links left behind.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const NOT_DOCS = new Set(['node_modules', 'dist', 'dist-bench', 'dist-check', 'test-artifacts']);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name.startsWith('.') || NOT_DOCS.has(e.name)) return [];
    const path = join(dir, e.name);
    if (e.isDirectory()) return markdownFiles(path);
    return e.name.endsWith('.md') ? [path] : [];
  });
}

/** The text outside fenced code blocks (indented ones too, as in a list item). */
function withoutFences(md: string): string {
  return md.replace(/^ *(```|~~~)[\s\S]*?^ *\1[^\n]*$/gm, '');
}

/** GitHub's heading id: lower case, punctuation dropped, each space a hyphen (github-slugger's rule). */
function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replaceAll(' ', '-');
}

/** The ids of a page's headings; a repeated heading gets -1, -2, … as on GitHub. */
function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const ids = new Set<string>();
  for (const m of withoutFences(md).matchAll(/^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$/gm)) {
    const base = slug(m[1] as string);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    ids.add(n === 0 ? base : `${base}-${n}`);
  }
  return ids;
}

/** Link targets outside code: inline links and images, reference definitions, HTML href and src. */
function targets(md: string): string[] {
  const prose = withoutFences(md).replace(/(`+)[\s\S]*?\1/g, '');
  return [
    ...[...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] as string),
    ...[...prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/gm)].map((m) => m[1] as string),
    ...[...prose.matchAll(/\b(?:href|src)="([^"]+)"/g)].map((m) => m[1] as string),
  ];
}

/** What is wrong with each relative link of `file` (a path under ROOT), given the pages' text. */
function brokenLinks(file: string, read: (path: string) => string, exists: (path: string) => boolean): string[] {
  const broken: string[] = [];
  for (const target of targets(read(file))) {
    if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(target)) continue;
    const [rawPath = '', anchor] = target.split('#', 2);
    const path = decodeURIComponent(rawPath);
    const dest = path === '' ? file : path.startsWith('/') ? join(ROOT, path) : resolve(dirname(file), path);
    if (dest !== ROOT && !dest.startsWith(ROOT + sep)) broken.push(`${target}: outside the repository`);
    else if (!exists(dest)) broken.push(`${target}: no such file`);
    else if (anchor !== undefined && !dest.endsWith('.md')) broken.push(`${target}: an anchor into a file that is not markdown`);
    else if (anchor !== undefined && !anchors(read(dest)).has(anchor)) broken.push(`${target}: no heading with that id`);
  }
  return broken;
}

const read = (path: string) => readFileSync(path, 'utf8');
const files = markdownFiles(ROOT);

describe('links in the markdown', () => {
  it('finds the README and the pages under docs/', () => {
    const names = files.map((f) => relative(ROOT, f));
    expect(names).toContain('README.md');
    expect(names).toEqual(expect.arrayContaining(['docs/configuration.md', 'docs/operations.md', 'docs/behaviour.md']));
  });

  it.each(files.map((f) => [relative(ROOT, f), f]))('%s: every relative link and anchor resolves', (_name, file) => {
    expect(brokenLinks(file, read, existsSync)).toEqual([]);
  });

  it('makes heading ids as GitHub does', () => {
    expect(slug('Behaviour, and the choices where the spec is silent')).toBe('behaviour-and-the-choices-where-the-spec-is-silent');
    expect(slug('What `npm test` needs')).toBe('what-npm-test-needs');
    expect(slug('Operator controls: pause, overlap, missed ticks, history')).toBe('operator-controls-pause-overlap-missed-ticks-history');
    expect([...anchors('# A\n\n```sh\n# not a heading\n```\n## A\n')]).toEqual(['a', 'a-1']);
  });

  it('reports a missing file, a missing heading and a heading inside code, and ignores links in code', () => {
    const pages: Record<string, string> = {
      [join(ROOT, 'docs/a.md')]:
        '# Top\n\n[ok](#top) [file](b.md) [gone](c.md) [anchor](b.md#nope) [in code](b.md#fenced) `[x](d.md)`\n\n```md\n[y](e.md)\n```\n',
      [join(ROOT, 'docs/b.md')]: '# B\n\n```sh\n# fenced\n```\n',
    };
    const broken = brokenLinks(
      join(ROOT, 'docs/a.md'),
      (p) => pages[p] ?? '',
      (p) => p in pages,
    );
    expect(broken).toEqual(['c.md: no such file', 'b.md#nope: no heading with that id', 'b.md#fenced: no heading with that id']);
  });
});
