/** The CLI's pure parts: tables, durations, colour rules, run summaries, progress rendering, arguments. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ActionRun } from '../../src/client/index.js';
import { parseArg } from '../../src/cli/commands/actions.js';
import { recentRuns, RECENT_SECONDS } from '../../src/cli/commands/status.js';
import {
  colorEnabled,
  formatDuration,
  makeStyle,
  runDetail,
  table,
  visibleLength,
} from '../../src/cli/output.js';
import { createProgress, liveLine, plainLine, progressBar } from '../../src/cli/progress.js';

function run(fields: Partial<ActionRun> = {}): ActionRun {
  return {
    action_uid: '2f1d3c9e-6b7a-4f4e-9d55-0c8e4e3b1a27',
    name: 'change_master',
    status: 'running',
    progress: 40,
    phase: 'handing_over',
    creation_time: 1_700_000_000,
    params: { node_uid: 2 },
    ...fields,
  };
}

class FakeStream {
  chunks: string[] = [];
  constructor(
    readonly isTTY: boolean,
    readonly columns = 80,
  ) {}
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  get text(): string {
    return this.chunks.join('');
  }
}

describe('output', () => {
  it('table: aligns columns by their visible width, colour codes included', () => {
    const s = makeStyle(true);
    const out = table(
      ['A', 'BB', 'C'],
      [
        [s.green('x'), 'yyy', 'z'],
        ['long', 'y', 'last column is not padded'],
      ],
    );
    // eslint-disable-next-line no-control-regex
    const lines = out.split('\n').map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
    assert.deepEqual(lines, ['A     BB   C', 'x     yyy  z', 'long  y    last column is not padded']);
  });

  it('formatDuration: compact, for uptimes and ages', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(59.9), '59s');
    assert.equal(formatDuration(125), '2m05s');
    assert.equal(formatDuration(3 * 3600 + 12 * 60), '3h12m');
    assert.equal(formatDuration(2 * 86400 + 3 * 3600), '2d03h');
    assert.equal(formatDuration(-5), '0s');
  });

  it('colour: only on a TTY, never with NO_COLOR (non-empty), TERM=dumb or --no-color', () => {
    assert.equal(colorEnabled({ isTTY: true }, true, {}), true);
    assert.equal(colorEnabled({ isTTY: false }, true, {}), false);
    assert.equal(colorEnabled({}, true, {}), false);
    assert.equal(colorEnabled({ isTTY: true }, true, { NO_COLOR: '1' }), false);
    assert.equal(colorEnabled({ isTTY: true }, true, { NO_COLOR: '' }), true);
    assert.equal(colorEnabled({ isTTY: true }, true, { TERM: 'dumb' }), false);
    assert.equal(colorEnabled({ isTTY: true }, false, {}), false);
    assert.equal(makeStyle(false).red('x'), 'x');
    assert.equal(makeStyle(true).red('x'), '\x1b[31mx\x1b[39m');
  });

  it('runDetail: the error for a failed run, the move for a completed change_master', () => {
    assert.equal(
      runDetail(run({ status: 'failed', error_code: 'handover_timeout', error_message: 'Node 2 did not.' })),
      'handover_timeout: Node 2 did not.',
    );
    assert.equal(
      runDetail(run({ status: 'completed', outcome: { old_master: '1', new_master: '2', handover_ms: 12 } })),
      'master 1 → 2 (hand-over 12 ms)',
    );
    assert.equal(
      runDetail(
        run({ status: 'completed', outcome: { noop: true, message: 'Node 2 is already the master.' } }),
      ),
      'Node 2 is already the master.',
    );
    assert.equal(runDetail(run({ status: 'queued' })), 'node_uid=2');
  });

  it('status keeps runs in flight and runs finished recently, newest last', () => {
    const now = 1_700_010_000_000;
    const nowS = now / 1000;
    const old = run({ action_uid: 'old', status: 'completed', creation_time: nowS - 7200 });
    const oldEnd = new Date((nowS - RECENT_SECONDS - 60) * 1000).toISOString();
    const recentEnd = new Date((nowS - 60) * 1000).toISOString();
    const runs = [
      { ...old, end_time: oldEnd },
      run({ action_uid: 'recent', status: 'failed', creation_time: nowS - 90, end_time: recentEnd }),
      run({ action_uid: 'inflight', status: 'running', creation_time: nowS - 9000 }),
    ];
    assert.deepEqual(
      recentRuns(runs, now).map((r) => r.action_uid),
      ['inflight', 'recent'],
    );
  });

  it('parseArg: key=value, JSON values parsed, repeatable', () => {
    assert.deepEqual(parseArg('node_uid=2'), { node_uid: 2 });
    assert.deepEqual(parseArg('name=alpha', { a: true }), { a: true, name: 'alpha' });
    assert.deepEqual(parseArg('x="2"'), { x: '2' });
    assert.deepEqual(parseArg('eq=a=b'), { eq: 'a=b' });
    assert.throws(() => parseArg('novalue'), /key=value/);
    assert.throws(() => parseArg('=x'), /key=value/);
  });
});

describe('progress', () => {
  it('progressBar: proportional and clamped', () => {
    assert.equal(progressBar(0, 10), '[░░░░░░░░░░]');
    assert.equal(progressBar(40, 10), '[████░░░░░░]');
    assert.equal(progressBar(100, 10), '[██████████]');
    assert.equal(progressBar(150, 4), '[████]');
    assert.equal(progressBar(Number.NaN, 4), '[░░░░]');
  });

  it('the live line fits the terminal width and shows the phase', () => {
    for (const columns of [40, 60, 80, 200]) {
      const line = liveLine(run(), makeStyle(true), 3, 1234, columns);
      assert.ok(visibleLength(line) < columns || columns < 60, `${columns}: ${line}`);
      assert.match(line, /handing_over/);
    }
    assert.match(
      liveLine(run(), makeStyle(false), 0, 1234, 80),
      /change_master {2}\[█+░+\] {2}40% {2}running · handing_over {2}1\.2s$/,
    );
  });

  it('on a pipe: one plain line per change of status or phase, no control characters', () => {
    const stream = new FakeStream(false);
    const p = createProgress(stream, { style: makeStyle(false), live: false });
    p.update(run({ status: 'queued', progress: 0, phase: undefined }));
    p.update(run({ status: 'queued', progress: 0, phase: undefined }));
    p.update(run({ status: 'running', progress: 10, phase: 'validating' }));
    p.update(run({ status: 'running', progress: 40, phase: 'handing_over' }));
    p.update(run({ status: 'running', progress: 40, phase: 'handing_over' }));
    p.retrying(new Error('connection refused'));
    p.retrying(new Error('connection refused'));
    p.update(run({ status: 'completed', progress: 100, phase: 'done' }));
    p.stop();
    assert.deepEqual(stream.text.split('\n'), [
      'change_master: queued 0%',
      'change_master: running 10% (validating)',
      'change_master: running 40% (handing_over)',
      'cannot poll the run (connection refused); retrying',
      'change_master: completed 100% (done)',
      '',
    ]);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(stream.text, /[\r\x1b]/);
    assert.equal(plainLine(run()), 'change_master: running 40% (handing_over)');
  });

  it('on a TTY: redraws one line in place and erases it at the end', () => {
    const stream = new FakeStream(true, 100);
    const p = createProgress(stream, { style: makeStyle(true), live: true });
    p.update(run({ status: 'queued', progress: 0 }));
    p.update(run({ status: 'completed', progress: 100, phase: 'done' }));
    p.stop();
    p.stop();
    assert.ok(stream.chunks.every((c) => c.startsWith('\r\x1b[2K')));
    assert.ok(!stream.text.includes('\n'), 'never a newline: the line is redrawn');
    assert.equal(stream.chunks.at(-1), '\r\x1b[2K');
  });

  it('quiet: draws nothing', () => {
    const stream = new FakeStream(false);
    const p = createProgress(stream, { style: makeStyle(false), live: false, quiet: true });
    p.update(run());
    p.stop();
    assert.equal(stream.text, '');
  });
});
