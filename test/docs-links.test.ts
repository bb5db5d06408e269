/**
 * The README and docs/ link only inside the repository, and every link lands: the file exists
 * and, for `#anchor`, a heading of that name does (GitHub's heading ids).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's id for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(join(ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!.replace(/`/g, ''))));
}

/** Markdown links `[text](target)` outside code blocks and code spans. */
function linksOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

describe('README and docs/', () => {
  it.each(PAGES)('%s links only inside the repository, and every link lands', (page) => {
    const broken: string[] = [];
    for (const link of linksOf(page)) {
      if (/^[a-z]+:/i.test(link)) {
        broken.push(`${link}: leaves the repository`);
        continue;
      }
      const [path, anchor] = link.split('#') as [string, string | undefined];
      const target = path ? relative(ROOT, resolve(ROOT, dirname(page), path)) : page;
      if (target.startsWith('..')) broken.push(`${link}: outside the repository`);
      else if (!existsSync(join(ROOT, target))) broken.push(`${link}: no such file`);
      else if (anchor && target.endsWith('.md') && !anchorsOf(target).has(anchor)) broken.push(`${link}: no heading "#${anchor}" in ${target}`);
    }
    expect(broken).toEqual([]);
  });

  it('the README stays a short front page: set-up, usage, configuration in brief, links', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThan(250);
    for (const page of PAGES.filter((p) => p.startsWith('docs/'))) expect(readme).toContain(`](${page})`);
  });
});
