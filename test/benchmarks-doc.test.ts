/**
 * BENCHMARKS.md's generated part is exactly what bench/results/*.json render (bench/report.ts): a
 * figure edited by hand inside the markers, or results committed without the page they produce, fail
 * here, instead of being dropped by the next `npm run bench`. Analysis goes under "Findings", outside
 * the markers.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { repoRoot } from '../bench/lib/results.js';
import { formattedGenerated, generatedPart, writeReport } from '../bench/report.js';

describe('BENCHMARKS.md', () => {
  it('has a generated part equal to what the stored results render', async () => {
    const text = readFileSync(join(repoRoot, 'BENCHMARKS.md'), 'utf8');
    const committed = generatedPart(text);
    assert.ok(committed !== undefined, 'BENCHMARKS.md has the generated markers');
    assert.equal(
      committed,
      await formattedGenerated(),
      'regenerate it with `node dist/bench/report.js`, and move hand-written analysis under "Findings"',
    );
  });

  it('is rewritten between the markers only, keeping analysis written outside them', async () => {
    const generated = await formattedGenerated();
    const dir = mkdtempSync(join(tmpdir(), 'bosun-bench-doc-'));
    try {
      const path = join(dir, 'BENCHMARKS.md');
      const stale = generated.replace('## Results', '## Results\n\nA figure edited by hand.');
      writeFileSync(path, `# Benchmarks\n\nBefore.\n\n${stale}\n\n## Findings\n\nAfter.\n`);
      await writeReport(path);
      assert.equal(
        readFileSync(path, 'utf8'),
        `# Benchmarks\n\nBefore.\n\n${generated}\n\n## Findings\n\nAfter.\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
