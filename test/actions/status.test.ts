/**
 * The action status machine (src/actions/status.ts) and the pure moves over it (src/actions/run.ts), checked
 * against docs/re-contract.md ("The action object") rather than against the table in the source: every one of
 * the 7 × 7 pairs is allowed or forbidden exactly as the design lists it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  claim,
  complete,
  fail,
  failToStart,
  finishCancel,
  moveToCancelled,
  moveToCancelling,
  moveToCompleted,
  moveToFailed,
  moveToRunning,
  moveToStarting,
  newRun,
  requestCancel,
  withProgress,
  type ActionRun,
} from '../../src/actions/run.js';
import {
  ActionStatus,
  allStatuses,
  assertMove,
  canMove,
  IllegalTransitionError,
  isActive,
  isStatus,
  isTerminal,
} from '../../src/actions/status.js';
import { isTerminalStatus, terminalStatuses, type RunStatus } from '../../src/client/types.js';

/** docs/re-contract.md, "The action object": the moves, without `aborted`. */
const designMoves: Readonly<Record<ActionStatus, readonly ActionStatus[]>> = {
  queued: ['starting', 'cancelled'],
  starting: ['running', 'failed'],
  running: ['completed', 'failed', 'cancelling'],
  cancelling: ['cancelled', 'completed', 'failed'],
  cancelled: [],
  completed: [],
  failed: [],
};

const designStatuses = Object.keys(designMoves) as ActionStatus[];

describe('action statuses', () => {
  it('are exactly the seven of Redis\u2019s action object, without 8.0\u2019s aborted', () => {
    assert.deepEqual([...allStatuses].sort(), [...designStatuses].sort());
    assert.equal(isStatus('aborted'), false);
    assert.equal(Object.values(ActionStatus).length, 7);
  });

  it('isStatus accepts only the status strings', () => {
    for (const s of designStatuses) assert.equal(isStatus(s), true, s);
    for (const v of ['', 'Queued', 'done', 'pending', 'active', 0, null, undefined, {}, ['queued']]) {
      assert.equal(isStatus(v), false, JSON.stringify(v));
    }
  });

  describe('the transition table, pair by pair', () => {
    for (const from of designStatuses) {
      for (const to of designStatuses) {
        const allowed = designMoves[from].includes(to);
        it(`${from} → ${to} is ${allowed ? 'allowed' : 'forbidden'}`, () => {
          assert.equal(canMove(from, to), allowed);
          if (allowed) {
            assert.doesNotThrow(() => assertMove(from, to));
          } else {
            assert.throws(
              () => assertMove(from, to),
              (err: unknown) =>
                err instanceof IllegalTransitionError &&
                err.from === from &&
                err.to === to &&
                err.message.includes(from) &&
                err.message.includes(to),
            );
          }
        });
      }
    }
  });

  it('allows no self-move, not even for terminal statuses', () => {
    for (const s of designStatuses) assert.equal(canMove(s, s), false, s);
  });

  it('isTerminal holds for cancelled, completed and failed only', () => {
    const terminal = designStatuses.filter((s) => isTerminal(s)).sort();
    assert.deepEqual(terminal, ['cancelled', 'completed', 'failed']);
  });

  it('isActive (what the single-instance rule counts) holds for queued and in-flight statuses only', () => {
    const active = designStatuses.filter((s) => isActive(s)).sort();
    assert.deepEqual(active, ['cancelling', 'queued', 'running', 'starting']);
    for (const s of designStatuses) assert.equal(isActive(s), !isTerminal(s), s);
  });
});

// ---- run.ts ----

function queued(): ActionRun {
  return newRun('change_master', { node_uid: 2 }, 'admin@test.local');
}

function running(): ActionRun {
  return moveToRunning(moveToStarting(queued(), 1));
}

function cancelling(): ActionRun {
  return moveToCancelling(running());
}

/** Runs in every status, reached only through the moves. */
function oneRunInEachStatus(): Record<ActionStatus, ActionRun> {
  return {
    queued: queued(),
    starting: moveToStarting(queued(), 1),
    running: running(),
    cancelling: cancelling(),
    cancelled: moveToCancelled(queued()),
    completed: moveToCompleted(running(), { ok: true }),
    failed: moveToFailed(running(), 'internal_error', 'boom'),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('run moves', () => {
  it('newRun is queued at progress 0 with a fresh UUID and the wire fields', () => {
    const before = Math.floor(Date.now() / 1000);
    const run = queued();
    const after = Math.floor(Date.now() / 1000);
    assert.match(run.action_uid, UUID);
    assert.notEqual(run.action_uid, queued().action_uid);
    assert.equal(run.name, 'change_master');
    assert.equal(run.status, 'queued');
    assert.equal(run.progress, 0);
    assert.ok(Number.isInteger(run.creation_time));
    assert.ok(run.creation_time >= before && run.creation_time <= after, 'creation_time is unix seconds');
    assert.equal(run.node_uid, undefined);
    assert.equal(run.cancellable, true);
    assert.equal(run.requester, 'admin@test.local');
    assert.deepEqual(run.params, { node_uid: 2 });
    assert.equal(run.error_code, undefined);
    assert.equal(run.error_message, undefined);
  });

  it('moveToStarting records the claiming node as a string', () => {
    const run = moveToStarting(queued(), 3);
    assert.equal(run.status, 'starting');
    assert.equal(run.node_uid, '3');
    assert.equal(typeof run.start_time, 'string');
    assert.ok(!Number.isNaN(Date.parse(run.start_time!)));
  });

  it('moveToCancelling clears a pending cancel request', () => {
    const requested: ActionRun = { ...moveToStarting(queued(), 1), cancel_requested: true };
    const next = moveToCancelling(moveToRunning(requested));
    assert.equal(next.status, 'cancelling');
    assert.equal(next.cancel_requested, undefined);
  });

  it('moveToCompleted sets progress 100, the outcome, an end time, and makes the run not cancellable', () => {
    for (const from of [running(), cancelling()]) {
      const done = moveToCompleted(withProgress(from, 40, 'x'), { noop: true });
      assert.equal(done.status, 'completed');
      assert.equal(done.progress, 100);
      assert.deepEqual(done.outcome, { noop: true });
      assert.equal(done.cancellable, false);
      assert.equal(typeof done.end_time, 'string');
    }
  });

  it('moveToFailed sets error_code and error_message, and keeps an earlier outcome unless given one', () => {
    const withOutcome: ActionRun = { ...running(), outcome: { partial: 1 } };
    const failed = moveToFailed(withOutcome, 'handover_timeout', 'node 2 did not take over');
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error_code, 'handover_timeout');
    assert.equal(failed.error_message, 'node 2 did not take over');
    assert.deepEqual(failed.outcome, { partial: 1 });
    assert.equal(failed.cancellable, false);
    const replaced = moveToFailed(withOutcome, 'master_lost', 'lost', { old_master: '1' });
    assert.deepEqual(replaced.outcome, { old_master: '1' });
  });

  it('moveToCancelled works from queued and from cancelling', () => {
    assert.equal(moveToCancelled(queued()).status, 'cancelled');
    const c = moveToCancelled(cancelling(), { message: 'stopped' });
    assert.equal(c.status, 'cancelled');
    assert.deepEqual(c.outcome, { message: 'stopped' });
    assert.equal(c.cancellable, false);
  });

  it('every move function refuses the moves the table forbids, and never mutates its input', () => {
    const movers: Record<string, { to: ActionStatus; apply: (r: ActionRun) => ActionRun }> = {
      moveToStarting: { to: 'starting', apply: (r) => moveToStarting(r, 1) },
      moveToRunning: { to: 'running', apply: moveToRunning },
      moveToCancelling: { to: 'cancelling', apply: moveToCancelling },
      moveToCancelled: { to: 'cancelled', apply: (r) => moveToCancelled(r) },
      moveToCompleted: { to: 'completed', apply: (r) => moveToCompleted(r, {}) },
      moveToFailed: { to: 'failed', apply: (r) => moveToFailed(r, 'internal_error', 'x') },
    };
    const runs = oneRunInEachStatus();
    for (const [fn, { to, apply }] of Object.entries(movers)) {
      for (const from of designStatuses) {
        const run = runs[from];
        const snapshot = structuredClone(run);
        if (designMoves[from].includes(to)) {
          assert.equal(apply(run).status, to, `${fn} from ${from}`);
        } else {
          assert.throws(() => apply(run), IllegalTransitionError, `${fn} from ${from} must throw`);
        }
        assert.deepEqual(run, snapshot, `${fn} must not mutate a ${from} run`);
      }
    }
  });

  it('error fields exist on failed runs only', () => {
    for (const [status, run] of Object.entries(oneRunInEachStatus())) {
      const hasError = run.error_code !== undefined || run.error_message !== undefined;
      assert.equal(hasError, status === 'failed', status);
    }
    // Also along the cancelling → completed | failed | cancelled paths.
    assert.equal(moveToCompleted(cancelling(), {}).error_code, undefined);
    assert.equal(moveToCancelled(cancelling()).error_message, undefined);
    assert.equal(moveToFailed(cancelling(), 'master_lost', 'm').error_code, 'master_lost');
  });
});

describe('withProgress', () => {
  it('moves progress forward and records the phase while running', () => {
    let run = running();
    run = withProgress(run, 10, 'validating');
    assert.equal(run.progress, 10);
    assert.equal(run.phase, 'validating');
    run = withProgress(run, 55.5, 'handing_over');
    assert.equal(run.progress, 55.5, 'progress is a float');
    assert.equal(run.phase, 'handing_over');
  });

  it('never moves progress backwards, but still records a new phase', () => {
    let run = withProgress(running(), 60, 'a');
    run = withProgress(run, 30, 'b');
    assert.equal(run.progress, 60);
    assert.equal(run.phase, 'b');
    run = withProgress(run, 60, undefined);
    assert.equal(run.progress, 60);
    assert.equal(run.phase, 'b', 'an undefined phase keeps the current one');
  });

  it('is monotonic over any sequence of reports', () => {
    const reports = [5, 3, 50, -7, 49, 120, 99, 0, 100, 42];
    let run = running();
    let last = run.progress;
    for (const pct of reports) {
      run = withProgress(run, pct, undefined);
      assert.ok(run.progress >= last, `${run.progress} after ${last}`);
      assert.ok(run.progress >= 0 && run.progress <= 100);
      last = run.progress;
    }
    assert.equal(run.progress, 100);
  });

  it('clamps to 0..100 and ignores a non-finite report', () => {
    assert.equal(withProgress(running(), 150, undefined).progress, 100);
    assert.equal(withProgress(running(), -20, undefined).progress, 0);
    const at30 = withProgress(running(), 30, undefined);
    assert.equal(withProgress(at30, Number.NaN, undefined).progress, 30);
    assert.equal(withProgress(at30, Number.POSITIVE_INFINITY, undefined).progress, 30);
    assert.equal(withProgress(at30, Number.NEGATIVE_INFINITY, undefined).progress, 30);
  });

  it('also applies while cancelling', () => {
    const run = withProgress(cancelling(), 70, 'unwinding');
    assert.equal(run.progress, 70);
    assert.equal(run.phase, 'unwinding');
  });

  it('changes nothing in any other status', () => {
    const runs = oneRunInEachStatus();
    for (const status of ['queued', 'starting', 'cancelled', 'completed', 'failed'] as const) {
      const run = runs[status];
      const next = withProgress(run, 50, 'late');
      assert.equal(next, run, `${status}: the very same object comes back`);
      assert.equal(next.progress, status === 'completed' ? 100 : 0);
    }
  });
});

describe('guarded moves (what the engine and the submitter write)', () => {
  const runs = oneRunInEachStatus();
  const none = Object.fromEntries(designStatuses.map((s) => [s, '-']));
  const statusAfter = (apply: (r: ActionRun) => ActionRun | undefined): Record<string, string> =>
    Object.fromEntries(designStatuses.map((from) => [from, apply(runs[from])?.status ?? '-']));

  it('say whether a move is allowed from each status, and never throw', () => {
    assert.deepEqual(
      statusAfter((r) => claim(r, 1)),
      {
        queued: 'running',
        starting: '-',
        running: '-',
        cancelling: '-',
        cancelled: '-',
        completed: '-',
        failed: '-',
      },
    );
    assert.deepEqual(
      statusAfter((r) => failToStart(r, 1, 'unsupported_action', 'x')),
      {
        ...none,
        queued: 'failed',
      },
    );
    assert.deepEqual(
      statusAfter((r) => complete(r, {})),
      {
        ...none,
        running: 'completed',
        cancelling: 'completed',
      },
    );
    assert.deepEqual(
      statusAfter((r) => fail(r, 'internal_error', 'x')),
      {
        ...none,
        starting: 'failed',
        running: 'failed',
        cancelling: 'failed',
      },
    );
    assert.deepEqual(
      statusAfter((r) => finishCancel(r)),
      {
        ...none,
        running: 'cancelled',
        cancelling: 'cancelled',
      },
    );
  });

  it('claim turns a cancel that arrived while starting into cancelling', () => {
    assert.equal(claim({ ...queued(), cancel_requested: true }, 1)?.status, 'cancelling');
  });

  it('requestCancel: queued is cancelled at once, starting is flagged, running is cancelling', () => {
    assert.equal(requestCancel(runs.queued)?.result, 'cancelled');
    assert.equal(requestCancel(runs.queued)?.run?.status, 'cancelled');
    const starting = requestCancel(runs.starting);
    assert.equal(starting?.result, 'cancelling');
    assert.equal(starting?.run?.status, 'starting');
    assert.equal(starting?.run?.cancel_requested, true);
    assert.equal(requestCancel(runs.running)?.run?.status, 'cancelling');
    assert.deepEqual(requestCancel(runs.cancelling), { result: 'cancelling', run: undefined });
    for (const s of ['cancelled', 'completed', 'failed'] as const)
      assert.equal(requestCancel(runs[s]), undefined);
    // Past the point of no return (`cancellable: false`): refused, whether starting or running.
    for (const s of ['starting', 'running'] as const) {
      assert.deepEqual(requestCancel({ ...runs[s], cancellable: false }), {
        result: 'not_cancellable',
        run: undefined,
      });
    }
  });
});

describe("the client's status list (src/client/types.ts)", () => {
  it('names the same statuses, and the same terminal ones, as the table', () => {
    const clientStatuses: Record<RunStatus, true> = {
      queued: true,
      starting: true,
      running: true,
      cancelling: true,
      cancelled: true,
      completed: true,
      failed: true,
    };
    assert.deepEqual(Object.keys(clientStatuses).sort(), [...allStatuses].sort());
    assert.deepEqual([...terminalStatuses].sort(), allStatuses.filter(isTerminal).sort());
    for (const s of allStatuses) assert.equal(isTerminalStatus(s), isTerminal(s), s);
  });
});
