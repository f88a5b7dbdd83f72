/**
 * "Make master": the dry-run preflight first (`POST /v1/cluster/actions/change_master?dry_run=true`),
 * each check shown with its verdict; the change is confirmed only when the verdict is go; then the run
 * starts and the run panel follows it live. Whatever the server refuses is shown as it said it.
 */
import { useEffect, useRef, useState } from 'preact/hooks';

import { describeError } from '../api.js';
import { html } from '../html.js';
import type { Run } from '../model.js';
import type { Session } from '../session.js';
import { Badge } from './badge.js';

interface Check {
  readonly name: string;
  readonly passed: boolean;
  readonly message: string;
}
interface Preflight {
  readonly verdict: string;
  readonly checks: readonly Check[];
}

const PATH = '/v1/cluster/actions/change_master';

export function MakeMaster({
  session,
  uid,
  onClose,
}: {
  session: Session;
  uid: number;
  onClose: () => void;
}) {
  const [preflight, setPreflight] = useState<Preflight | undefined>(undefined);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(true);
  const first = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    session.api
      .call<Preflight>('POST', `${PATH}?dry_run=true`, { node_uid: uid })
      .then(
        (p) =>
          Array.isArray(p?.checks)
            ? setPreflight(p)
            : setError('This node answered the preflight without checks: its version has no dry run.'),
        (err: unknown) => setError(describeError(err)),
      )
      .finally(() => setBusy(false));
  }, [uid]);
  useEffect(() => first.current?.focus(), [busy]);

  const confirm = async () => {
    setBusy(true);
    setError('');
    try {
      session.follow(await session.api.call<Run>('POST', PATH, { node_uid: uid }));
      onClose();
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };
  const go = preflight?.verdict === 'go';
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') onClose();
  };
  return html`<div class="backdrop">
    <div
      class="dialog"
      role="dialog"
      aria-modal="true"
      aria-labelledby="mm-title"
      onKeyDown=${onKey}
      data-testid="make-master"
    >
      <h2 id="mm-title">Make node ${uid} master</h2>
      ${busy && !preflight && !error ? html`<p>Running the preflight…</p>` : null}
      ${preflight ? html`<${Checks} preflight=${preflight} />` : null}
      ${preflight && !go ? html`<p class="error" role="alert" data-testid="blocked">The preflight failed: the change is blocked.</p>` : null}
      ${error ? html`<p class="error" role="alert" data-testid="mm-error">${error}</p>` : null}
      <div class="buttons">
        <button type="button" ref=${first} onClick=${onClose}>Close</button>
        <button
          type="button"
          class="primary"
          data-testid="confirm"
          disabled=${busy || !go}
          onClick=${confirm}
        >
          Confirm: make node ${uid} master
        </button>
      </div>
    </div>
  </div>`;
}

function Checks({ preflight }: { preflight: Preflight }) {
  return html`<table class="checks" data-testid="checks">
    <caption>
      Preflight verdict:
      <${Badge} kind=${preflight.verdict === 'go' ? 'go' : 'no-go'} text=${preflight.verdict} />
    </caption>
    <thead>
      <tr>
        <th scope="col">Check</th>
        <th scope="col">Result</th>
        <th scope="col">Message</th>
      </tr>
    </thead>
    <tbody>
      ${preflight.checks.map(
        (c) =>
          html`<tr key=${c.name} data-passed=${String(c.passed)}>
            <th scope="row">${c.name}</th>
            <td><${Badge} kind=${c.passed ? 'pass' : 'fail'} text=${c.passed ? 'pass' : 'fail'} /></td>
            <td>${c.message}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}
