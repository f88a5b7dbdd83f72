/** Sign-in: email (or user name) and password, through `POST /v1/users/authorize`. */
import { useEffect, useRef, useState } from 'preact/hooks';

import { describeError } from '../api.js';
import { html } from '../html.js';
import { Session } from '../session.js';

export function Login({ message, onSession }: { message: string; onSession: (s: Session) => void }) {
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  // The keyboard starts where the typing starts.
  useEffect(() => first.current?.focus(), []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    const session = new Session(location.origin);
    try {
      await session.signIn(login, password);
      setPassword('');
      onSession(session);
    } catch (err) {
      session.signOut();
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return html`<main class="login">
    <form onSubmit=${submit} aria-labelledby="login-title">
      <h1 id="login-title">Sign in to Bosun</h1>
      ${message ? html`<p class="note" role="status">${message}</p>` : null}
      <label
        >Email or user name
        <input
          ref=${first}
          name="login"
          autocomplete="username"
          required
          value=${login}
          onInput=${(e: Event) => setLogin((e.target as HTMLInputElement).value)}
      /></label>
      <label
        >Password
        <input
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value=${password}
          onInput=${(e: Event) => setPassword((e.target as HTMLInputElement).value)}
      /></label>
      <button type="submit" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    </form>
  </main>`;
}
