/**
 * The run history, searchable by name, status and time range (`GET /v1/actions` with `name`,
 * `status`, `since`, `until`, `limit`, `cursor`, `order=desc`), each run with its outcome or error
 * and a link to its JSON. The same filters are applied to what comes back, so a node that predates
 * the search parameters (and answers with every run) still shows the right rows.
 */
import { useEffect, useState } from 'preact/hooks';

import { describeError } from '../api.js';
import { text, time } from '../format.js';
import { html } from '../html.js';
import { TERMINAL, type Run } from '../model.js';
import type { Session } from '../session.js';
import { Badge } from './badge.js';

interface Filters {
  name: string;
  status: string;
  since: string;
  until: string;
}

interface Page {
  readonly actions: (Omit<Run, 'progress' | 'creation_time'> & {
    progress: unknown;
    creation_time: unknown;
  })[];
  readonly next_cursor?: string;
  readonly cursor?: string;
}

const STATUSES = ['', 'queued', 'starting', 'running', 'cancelling', 'completed', 'failed', 'cancelled'];
const LIMIT = 25;

function query(f: Filters, cursor: string | undefined): string {
  const q = new URLSearchParams({ order: 'desc', limit: String(LIMIT) });
  if (f.name) q.set('name', f.name);
  if (f.status) q.set('status', f.status);
  if (f.since) q.set('since', new Date(f.since).toISOString());
  if (f.until) q.set('until', new Date(f.until).toISOString());
  if (cursor) q.set('cursor', cursor);
  return q.toString();
}

function matches(r: Run, f: Filters): boolean {
  const t = r.creation_time * 1000;
  return (
    (!f.name || r.name === f.name) &&
    (!f.status || r.status === f.status) &&
    (!f.since || t >= Date.parse(f.since)) &&
    (!f.until || t <= Date.parse(f.until))
  );
}

export function History({ session }: { session: Session }) {
  const [filters, setFilters] = useState<Filters>({ name: '', status: '', since: '', until: '' });
  const [rows, setRows] = useState<Run[]>([]);
  const [next, setNext] = useState<string | undefined>(undefined);
  const [error, setError] = useState('');
  const [loading, setLoading] = useState(false);

  const load = async (f: Filters, cursor?: string) => {
    setLoading(true);
    setError('');
    try {
      const page = await session.api.get<Page>(`/v1/actions?${query(f, cursor)}`);
      const runs = page.actions
        .map((a): Run => ({ ...a, progress: Number(a.progress), creation_time: Number(a.creation_time) }))
        .filter((r) => matches(r, f))
        .sort((a, b) => b.creation_time - a.creation_time);
      setRows(cursor ? (old) => [...old, ...runs] : runs);
      setNext(page.next_cursor ?? page.cursor ?? undefined);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => void load(filters), []);

  const field = (key: keyof Filters) => (e: Event) =>
    setFilters({ ...filters, [key]: (e.target as HTMLInputElement).value });
  const submit = (e: Event) => {
    e.preventDefault();
    void load(filters);
  };
  return html`<section aria-labelledby="history-title">
    <h2 id="history-title">Run history</h2>
    <form class="filters" onSubmit=${submit} role="search" aria-label="Search runs">
      <label
        >Name <input name="name" value=${filters.name} onInput=${field('name')} placeholder="change_master"
      /></label>
      <label
        >Status
        <select name="status" value=${filters.status} onChange=${field('status')}>
          ${STATUSES.map((s) => html`<option value=${s}>${s || 'any'}</option>`)}
        </select>
      </label>
      <label
        >From <input type="datetime-local" name="since" value=${filters.since} onInput=${field('since')}
      /></label>
      <label
        >Until <input type="datetime-local" name="until" value=${filters.until} onInput=${field('until')}
      /></label>
      <button type="submit" disabled=${loading}>Search</button>
    </form>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    <table class="history" data-testid="history">
      <thead>
        <tr>
          <th scope="col">Created</th>
          <th scope="col">Name</th>
          <th scope="col">Status</th>
          <th scope="col">Outcome or error</th>
          <th scope="col">By</th>
          <th scope="col">JSON</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map((r) => html`<${HistoryRow} key=${r.action_uid} r=${r} />`)}
      </tbody>
    </table>
    ${rows.length === 0 && !loading ? html`<p class="note">No runs match.</p>` : null}
    ${next ? html`<button type="button" onClick=${() => void load(filters, next)}>More</button>` : null}
  </section>`;
}

function summary(r: Run): string {
  const o = r.outcome;
  if (r.error_code || r.error_message)
    return `${r.error_code ?? ''}${r.error_code ? ': ' : ''}${r.error_message ?? ''}`;
  if (!TERMINAL.has(r.status)) return `${r.phase ?? r.status}, ${r.progress}%`;
  if (!o) return '–';
  if (o.noop === true) return text(o.message, 'nothing to do');
  const parts = [`node ${text(o.old_master, '?')} → node ${text(o.new_master, '?')}`];
  if (typeof o.handover_ms === 'number') parts.push(`hand-over ${o.handover_ms} ms`);
  if (typeof o.no_master_window_ms === 'number') parts.push(`no master ${o.no_master_window_ms} ms`);
  return parts.join(', ');
}

function HistoryRow({ r }: { r: Run }) {
  return html`<tr data-status=${r.status}>
    <td data-label="Created">${time(r.creation_time)}</td>
    <td data-label="Name">${r.name}</td>
    <td data-label="Status"><${Badge} kind=${r.status} /></td>
    <td data-label="Outcome">${summary(r)}</td>
    <td data-label="By">${r.requester ?? '–'}</td>
    <td data-label="JSON"><a href=${`#/runs/${encodeURIComponent(r.action_uid)}`}>JSON</a></td>
  </tr>`;
}
