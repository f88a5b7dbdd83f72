/** The cluster at a glance: the master and its term, every node, the run in flight, what happened. */
import { bytes, duration, percent } from '../format.js';
import { html } from '../html.js';
import type { NodeRow } from '../model.js';
import type { Session } from '../session.js';
import { Badge } from './badge.js';
import { useNow } from './hooks.js';
import { MakeMaster } from './make-master.js';
import { RunPanel } from './run-panel.js';

export function Overview({ session, makeMaster }: { session: Session; makeMaster?: number }) {
  const m = session.model;
  const now = useNow();
  // The dialog is a route (#/make-master/<uid>), so it can be linked to, and Back closes it.
  const target = makeMaster;
  const open = (uid: number) => (location.hash = `#/make-master/${uid}`);
  const close = () => (location.hash = '#/overview');
  const rows = [...m.nodes.values()].sort((a, b) => a.uid - b.uid);
  return html`
    <section class="summary" aria-label="Master">
      <${MasterSummary} session=${session} now=${now} />
    </section>
    <${RunPanel} session=${session} />
    <section aria-labelledby="nodes-title">
      <h2 id="nodes-title">Nodes (${rows.length})</h2>
      <table class="nodes">
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">Role</th>
            <th scope="col">Status</th>
            <th scope="col">Address</th>
            <th scope="col">Uptime</th>
            <th scope="col">Version</th>
            <th scope="col">CPU</th>
            <th scope="col">Memory</th>
            <th scope="col"><span class="sr-only">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          ${rows.map((n) => html`<${NodeLine} key=${n.uid} session=${session} n=${n} now=${now} onMakeMaster=${open} />`)}
        </tbody>
      </table>
    </section>
    <${Notices} session=${session} />
    ${
      target !== undefined && Number.isInteger(target)
        ? html`<${MakeMaster} session=${session} uid=${target} onClose=${close} />`
        : null
    }
  `;
}

function MasterSummary({ session, now }: { session: Session; now: number }) {
  const master = session.model.master;
  const held = master.since ? duration((now - Date.parse(master.since)) / 1000) : '–';
  return html`<dl class="facts">
    <div>
      <dt>Cluster</dt>
      <dd data-testid="cluster-name">${session.model.clusterName}</dd>
    </div>
    <div>
      <dt>Master</dt>
      <dd data-testid="master">
        ${master.uid === null ? html`<${Badge} kind="lost" text="no master" />` : `node ${master.uid}`}
        ${master.uid !== null && master.status !== 'master' ? html` <${Badge} kind=${master.status} />` : null}
      </dd>
    </div>
    <div>
      <dt>Epoch</dt>
      <dd data-testid="epoch">${master.epoch ?? '–'}</dd>
    </div>
    <div>
      <dt>Held for</dt>
      <dd data-testid="held-for">${held}</dd>
    </div>
  </dl>`;
}

interface NodeLineProps {
  session: Session;
  n: NodeRow;
  now: number;
  onMakeMaster: (uid: number) => void;
}

function NodeLine({ session, n, now, onMakeMaster }: NodeLineProps) {
  const m = session.model;
  const isMaster = n.role === 'master';
  const here = m.connectedUid === n.uid;
  const up = n.status === 'active';
  const uptime = up ? duration(n.uptime + (now - n.uptimeAt) / 1000) : '–';
  const memory =
    n.freeMemory !== undefined && n.totalMemory > 0
      ? `${bytes(n.totalMemory - n.freeMemory)} used of ${bytes(n.totalMemory)}`
      : n.totalMemory > 0
        ? bytes(n.totalMemory)
        : '–';
  const canMove = session.can('start_cluster_action') && up && !isMaster && n.masterStatus === undefined;
  return html`<tr data-node=${n.uid} data-role=${n.role} data-status=${n.status}>
    <th scope="row" data-label="Node">
      node ${n.uid}${here ? html` <span class="here">(this page)</span>` : null}
      <div class="sub">${n.hostname}</div>
    </th>
    <td data-label="Role">
      ${isMaster ? html`<${Badge} kind="master" />` : html`<span class="role">replica</span>`}
      ${n.masterStatus ? html` <${Badge} kind=${n.masterStatus} />` : null}
    </td>
    <td data-label="Status"><${Badge} kind=${up ? 'active' : 'down'} text=${n.status} /></td>
    <td data-label="Address">${n.addr}:${n.httpPort}</td>
    <td data-label="Uptime">${uptime}</td>
    <td data-label="Version">${n.version}</td>
    <td data-label="CPU">${n.cpu !== undefined && up ? `${percent(n.cpu)} busy, ${n.cores} cores` : '–'}</td>
    <td data-label="Memory">${up ? memory : '–'}</td>
    <td data-label="Actions">
      ${
        canMove
          ? html`<button
              type="button"
              class="make-master"
              aria-label=${`Make node ${n.uid} master`}
              onClick=${() => onMakeMaster(n.uid)}
            >
              Make master
            </button>`
          : null
      }
    </td>
  </tr>`;
}

function Notices({ session }: { session: Session }) {
  const notices = session.model.notices;
  if (notices.length === 0) return null;
  return html`<section aria-labelledby="notices-title" class="notices">
    <h2 id="notices-title">What happened</h2>
    <ol data-testid="notices">
      ${notices.map((n) => html`<li key=${n.at + n.text}><time>${new Date(n.at).toLocaleTimeString()}</time> ${n.text}</li>`)}
    </ol>
  </section>`;
}
