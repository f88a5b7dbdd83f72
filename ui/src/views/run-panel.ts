/**
 * The run in flight (or the one just followed): status, phase, progress and whether it can still be
 * cancelled, as the stream reports them; when it ends, its outcome or its error. Cancel is offered
 * while the run is cancellable, and the reason is shown once it is not.
 */
import { useState } from 'preact/hooks';

import { describeError } from '../api.js';
import { ms, text } from '../format.js';
import { html } from '../html.js';
import { TERMINAL, type Run } from '../model.js';
import type { Session } from '../session.js';
import { Badge } from './badge.js';

export function RunPanel({ session }: { session: Session }) {
  const run = session.model.currentRun();
  const [error, setError] = useState('');
  if (!run) return null;
  const done = TERMINAL.has(run.status);
  const cancel = async () => {
    setError('');
    try {
      session.follow(
        await session.api.call<Run>('DELETE', `/v1/cluster/actions/${encodeURIComponent(run.name)}`),
      );
    } catch (err) {
      setError(describeError(err));
    }
  };
  const dismiss = () => {
    session.model.followed = undefined;
    session.model.runs.delete(run.action_uid);
    session.model.changed();
  };
  return html`<section class="run" aria-labelledby="run-title" data-testid="run" data-status=${run.status}>
    <h2 id="run-title">${done ? 'Last run' : 'Run in flight'}: ${run.name}</h2>
    <dl class="facts">
      <div>
        <dt>Status</dt>
        <dd data-testid="run-status"><${Badge} kind=${run.status} /></dd>
      </div>
      <div>
        <dt>Phase</dt>
        <dd data-testid="run-phase">${run.phase ?? '–'}</dd>
      </div>
      <div>
        <dt>Progress</dt>
        <dd><progress max="100" value=${run.progress} aria-label="Progress"></progress> ${run.progress}%</dd>
      </div>
      <div>
        <dt>Cancellable</dt>
        <dd data-testid="run-cancellable">
          ${done ? 'no (finished)' : run.cancellable ? 'yes' : `no${run.cancellable_reason ? `: ${run.cancellable_reason}` : ''}`}
        </dd>
      </div>
    </dl>
    ${
      !done && run.cancellable && session.can('cancel_cluster_action')
        ? html`<button type="button" class="danger" onClick=${cancel}>Cancel run</button>`
        : null
    }
    ${done ? html`<${Outcome} run=${run} />` : null}
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    <p class="links">
      <a href=${`#/runs/${encodeURIComponent(run.action_uid)}`}>Run ${run.action_uid} as JSON</a>
      ${done ? html` <button type="button" class="link-button" onClick=${dismiss}>Dismiss</button>` : null}
    </p>
  </section>`;
}

function Outcome({ run }: { run: Run }) {
  const o = run.outcome ?? {};
  if (run.status === 'failed' || run.status === 'cancelled') {
    return html`<p class=${run.status === 'failed' ? 'error' : 'note'} data-testid="run-outcome">
      ${run.error_code ? `${run.error_code}: ` : ''}${run.error_message ?? run.status}
    </p>`;
  }
  if (o.noop === true)
    return html`<p class="note" data-testid="run-outcome">${text(o.message, 'Nothing to do.')}</p>`;
  return html`<dl class="facts outcome" data-testid="run-outcome">
    <div>
      <dt>Master</dt>
      <dd>node ${text(o.old_master, '?')} → node ${text(o.new_master, '?')}</dd>
    </div>
    <div>
      <dt>Epoch</dt>
      <dd>${text(o.epoch, '–')}</dd>
    </div>
    <div>
      <dt>Hand-over</dt>
      <dd data-testid="handover-ms">${ms(o.handover_ms)}</dd>
    </div>
    <div>
      <dt>No master for</dt>
      <dd data-testid="no-master-ms">${ms(o.no_master_window_ms)}</dd>
    </div>
  </dl>`;
}
