/** The shell: sign-in until a session exists, then the header, the connection banner and the pages. */
import { useEffect, useState } from 'preact/hooks';

import { describeError } from '../api.js';
import { html } from '../html.js';
import { Session } from '../session.js';
import { Badge } from './badge.js';
import { History } from './history.js';
import { useModel, useRoute } from './hooks.js';
import { Login } from './login.js';
import { Overview } from './overview.js';
import { RunJson } from './run-json.js';
import { Users } from './users.js';

export function App() {
  const [session, setSession] = useState<Session | undefined>(undefined);
  const [message, setMessage] = useState('');
  const [restoring, setRestoring] = useState(Session.stored() !== undefined);

  const adopt = (s: Session) => {
    s.onSignedOut = (why) => {
      setSession(undefined);
      setMessage(why);
    };
    setSession(s);
  };

  useEffect(() => {
    const token = Session.stored();
    if (!token) return;
    const s = new Session(location.origin);
    s.start(token)
      .then(() => adopt(s))
      .catch((err: unknown) => {
        s.signOut();
        setMessage(`Please sign in again (${describeError(err)}).`);
      })
      .finally(() => setRestoring(false));
  }, []);

  if (restoring) return html`<p class="loading">Loading…</p>`;
  if (!session) return html`<${Login} message=${message} onSession=${adopt} />`;
  const signOut = () => {
    session.signOut();
    setSession(undefined);
    setMessage('Signed out.');
  };
  return html`<${Shell} session=${session} onSignOut=${signOut} />`;
}

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  useModel(session.model);
  const route = useRoute();
  const m = session.model;
  const page = route[0] ?? 'overview';
  const link = (name: string, label: string) =>
    html`<a href=${`#/${name}`} aria-current=${page === name ? 'page' : undefined}>${label}</a>`;
  return html`
    <header class="top">
      <h1><span class="brand">Bosun</span> <span class="cluster-name">${m.clusterName}</span></h1>
      <nav aria-label="Pages">
        ${link('overview', 'Overview')} ${link('history', 'History')}
        ${session.can('view_all_users_info') ? link('users', 'Users') : null}
      </nav>
      <div class="me">
        <span>${session.me?.email || session.me?.name} (${session.me?.role})</span>
        <button type="button" onClick=${onSignOut}>Sign out</button>
      </div>
    </header>
    <${LinkBanner} session=${session} />
    <main id="main">${pageFor(route, session)}</main>
  `;
}

function pageFor(route: string[], session: Session) {
  switch (route[0]) {
    case 'history':
      return html`<${History} session=${session} />`;
    case 'users':
      return html`<${Users} session=${session} />`;
    case 'runs':
      return html`<${RunJson} session=${session} uid=${route[1] ?? ''} />`;
    case 'make-master':
      return html`<${Overview} session=${session} makeMaster=${Number(route[1])} />`;
    default:
      return html`<${Overview} session=${session} />`;
  }
}

function LinkBanner({ session }: { session: Session }) {
  const m = session.model;
  const label = { connecting: 'connecting', live: 'live', polling: 'polling', lost: 'connection lost' }[
    m.link
  ];
  return html`<div class=${`link link-${m.link}`} role="status" aria-live="polite" data-testid="link">
    <${Badge} kind=${m.link} text=${label} />
    <span class="connected" data-testid="connected-node">
      Connected to node ${m.connectedUid ?? '?'} (${m.connectedOrigin})</span
    >
    ${m.linkMessage ? html`<span class="link-message">${m.linkMessage}</span>` : null}
    ${m.lastSwitch ? html`<span class="link-switch" data-testid="switched">${m.lastSwitch}</span>` : null}
  </div>`;
}
