/**
 * docs/errors.md against the error catalogue (src/errors/catalogue.ts), after fastify's
 * errors-vs-docs test: every code has exactly one `## <code>` section with the catalogue's HTTP status
 * and default description, plus what causes it and what a client should do; the doc has no code the
 * catalogue lacks; the index table and every in-page link agree.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { httpStatus } from '../src/api/http-errors.js';
import { errorCatalogue, type ErrorCode } from '../src/errors/catalogue.js';

type Catalogue = Readonly<Record<string, { readonly status: number; readonly description: string }>>;

/** The repository root: the nearest folder above this file with docs/errors.md (works from test/ and dist/test/). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'docs'))) return dir;
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('could not find the repository root from ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

interface Section {
  readonly heading: string;
  readonly line: number;
  /** `- **Label:** value` bullets, with wrapped lines joined and whitespace collapsed. */
  readonly fields: ReadonlyMap<string, string>;
}

interface ParsedDoc {
  readonly preamble: string;
  readonly sections: readonly Section[];
}

function parseDoc(markdown: string): ParsedDoc {
  const lines = markdown.split('\n');
  const sections: { heading: string; line: number; body: string[] }[] = [];
  const preamble: string[] = [];
  let inFence = false;
  for (const [i, line] of lines.entries()) {
    if (line.startsWith('```')) inFence = !inFence;
    const heading = !inFence && /^## (.*)$/.exec(line);
    if (heading) sections.push({ heading: heading[1]!.trim(), line: i + 1, body: [] });
    else if (sections.length > 0) sections.at(-1)!.body.push(line);
    else preamble.push(line);
  }
  return {
    preamble: preamble.join('\n'),
    sections: sections.map(({ heading, line, body }) => {
      const fields = new Map<string, string>();
      let current: { label: string; text: string[] } | undefined;
      const flush = (): void => {
        if (current) fields.set(current.label, current.text.join(' ').replace(/\s+/g, ' ').trim());
      };
      for (const l of body) {
        const bullet = /^- \*\*([^*]+):\*\*(.*)$/.exec(l);
        if (bullet) {
          flush();
          current = { label: bullet[1]!.trim(), text: [bullet[2]!] };
        } else if (current && l.trim() !== '') {
          current.text.push(l);
        }
      }
      flush();
      return { heading, line, fields };
    }),
  };
}

/** GitHub's anchor for a heading: lower case, punctuation other than `-` and `_` dropped, spaces to `-`. */
function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every way the doc and the catalogue disagree, as readable lines; empty when they agree. */
function driftProblems(markdown: string, catalogue: Catalogue): string[] {
  const problems: string[] = [];
  const doc = parseDoc(markdown);
  const codes = Object.keys(catalogue);
  const seen = new Map<string, number>();

  for (const section of doc.sections) {
    const where = `line ${section.line} (## ${section.heading})`;
    if (!/^[a-z][a-z0-9_]*$/.test(section.heading)) {
      problems.push(`${where}: a section heading must be just an error code`);
      continue;
    }
    const entry = catalogue[section.heading];
    if (!entry) {
      problems.push(`${where}: ${section.heading} is not in the catalogue`);
      continue;
    }
    if (seen.has(section.heading)) problems.push(`${where}: ${section.heading} is documented twice`);
    seen.set(section.heading, section.line);

    const status = section.fields.get('HTTP status');
    if (status === undefined) problems.push(`${where}: no "HTTP status" line`);
    else if (status !== String(entry.status)) {
      problems.push(`${where}: HTTP status ${status}, but the catalogue says ${entry.status}`);
    }
    const description = section.fields.get('Default description');
    if (description === undefined) problems.push(`${where}: no "Default description" line`);
    else if (description !== entry.description) {
      problems.push(
        `${where}: default description "${description}", but the catalogue says "${entry.description}"`,
      );
    }
    for (const label of ['When', 'What to do']) {
      const text = section.fields.get(label);
      if (text === undefined || text.length < 10)
        problems.push(`${where}: "${label}" is missing or too short`);
    }
  }
  for (const code of codes) {
    if (!seen.has(code)) problems.push(`${code} is in the catalogue but has no "## ${code}" section`);
  }

  // The index table: one row per code, linking its section, with the right status.
  const rows = [...doc.preamble.matchAll(/^\|\s*\[`([a-z0-9_]+)`\]\(#([^)]+)\)\s*\|\s*(\d{3})\s*\|/gm)];
  const indexed = new Set<string>();
  for (const [, code, anchor, status] of rows) {
    if (!catalogue[code!]) problems.push(`index: ${code} is not in the catalogue`);
    else if (status !== String(catalogue[code!]!.status)) {
      problems.push(
        `index: ${code} has status ${status}, but the catalogue says ${catalogue[code!]!.status}`,
      );
    }
    if (anchor !== code) problems.push(`index: ${code} links to #${anchor}`);
    if (indexed.has(code!)) problems.push(`index: ${code} is listed twice`);
    indexed.add(code!);
  }
  for (const code of codes) if (!indexed.has(code)) problems.push(`index: ${code} is missing from the table`);

  // Every in-page link lands on a heading.
  const anchors = new Set(doc.sections.map((s) => anchorOf(s.heading)));
  for (const [, anchor] of markdown.matchAll(/\]\(#([^)]+)\)/g)) {
    if (!anchors.has(anchor!)) problems.push(`link to #${anchor} has no heading`);
  }
  return problems;
}

const markdown = readFileSync(join(repoRoot(), 'docs', 'errors.md'), 'utf8');
// The domain catalogue's descriptions with the statuses the API answers them with (api/http-errors.ts).
const catalogue: Catalogue = Object.fromEntries(
  (Object.keys(errorCatalogue) as ErrorCode[]).map((code) => [
    code,
    { status: httpStatus[code], description: errorCatalogue[code].description },
  ]),
);

describe('docs/errors.md and the error catalogue', () => {
  it('agree completely', () => {
    assert.deepEqual(driftProblems(markdown, catalogue), []);
  });

  it('document every code exactly once, and no other code', () => {
    const headings = parseDoc(markdown).sections.map((s) => s.heading);
    assert.deepEqual([...headings].sort(), Object.keys(catalogue).sort());
  });

  for (const [code, entry] of Object.entries(catalogue)) {
    it(`## ${code}: HTTP ${entry.status}, with when and what to do`, () => {
      const section = parseDoc(markdown).sections.find((s) => s.heading === code);
      assert.ok(section, `no ## ${code} section`);
      assert.equal(section.fields.get('HTTP status'), String(entry.status));
      assert.equal(section.fields.get('Default description'), entry.description);
      assert.ok((section.fields.get('When') ?? '').length > 0);
      assert.ok((section.fields.get('What to do') ?? '').length > 0);
    });
  }

  it('the catalogue itself is sane: snake_case codes, error statuses, non-empty descriptions', () => {
    for (const [code, entry] of Object.entries(catalogue)) {
      assert.match(code, /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/, code);
      assert.ok(entry.status >= 400 && entry.status <= 599, `${code}: ${entry.status}`);
      assert.ok(entry.description.trim().length > 0, code);
    }
  });
});

describe('the drift check itself', () => {
  const clean = driftProblems(markdown, catalogue);

  it('reports a code the doc lacks', () => {
    const extended: Catalogue = { ...catalogue, brand_new_code: { status: 418, description: 'New.' } };
    const problems = driftProblems(markdown, extended);
    assert.ok(
      problems.some((p) => p.includes('brand_new_code') && p.includes('no "## brand_new_code" section')),
    );
    assert.ok(problems.some((p) => p.includes('index: brand_new_code is missing')));
  });

  it('reports a documented code the catalogue lacks', () => {
    const { invalid_json: _dropped, ...smaller } = catalogue;
    const problems = driftProblems(markdown, smaller);
    assert.ok(problems.some((p) => p.includes('invalid_json is not in the catalogue')));
  });

  it('reports a changed status and a changed description', () => {
    const changed: Catalogue = {
      ...catalogue,
      node_not_active: { status: 409, description: catalogue.node_not_active!.description },
      not_found: { status: 404, description: 'Something else.' },
    };
    const problems = driftProblems(markdown, changed);
    assert.ok(problems.some((p) => p.includes('node_not_active') && p.includes('HTTP status 406')));
    assert.ok(problems.some((p) => p.includes('index: node_not_active has status 406')));
    assert.ok(problems.some((p) => p.includes('not_found') && p.includes('Something else.')));
  });

  it('reports a duplicated section, a missing field and a dangling link', () => {
    const broken =
      markdown.replace('- **What to do:** fix the body;', '- fix the body;') +
      '\n## invalid_json\n\n- **HTTP status:** 400\n\nSee [`nowhere`](#nowhere).\n';
    const problems = driftProblems(broken, catalogue);
    assert.ok(problems.some((p) => p.includes('invalid_json is documented twice')));
    assert.ok(problems.some((p) => p.includes('"What to do" is missing')));
    assert.ok(problems.some((p) => p.includes('#nowhere')));
  });

  it('ignores headings inside code fences, but not a stray heading', () => {
    assert.deepEqual(driftProblems(markdown + '\n```\n## not_a_code_section\n```\n', catalogue), clean);
    const stray = driftProblems(markdown + '\n## Appendix\n', catalogue);
    assert.ok(stray.some((p) => p.includes('must be just an error code')));
  });
});
