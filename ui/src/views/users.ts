/**
 * Users (for `user_manager` and `admin`): list, create, change role, delete, through `/v1/users`;
 * the server applies its own rules (no role above the actor's, the last admin stays) and its refusals
 * are shown as it words them. The API takes a new user's password and never returns one, so this
 * page generates it (crypto.getRandomValues) and shows it once, right after the user is created.
 */
import { useEffect, useRef, useState } from 'preact/hooks';

import { describeError } from '../api.js';
import { html } from '../html.js';
import type { Session } from '../session.js';
import { useModel } from './hooks.js';

interface User {
  readonly uid: number;
  readonly name: string;
  readonly email: string;
  readonly role: string;
  readonly status: string;
}

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** 20 characters from 56: about 116 bits, without look-alike characters. */
export function generatePassword(): string {
  const out: string[] = [];
  const buf = new Uint8Array(1);
  while (out.length < 20) {
    crypto.getRandomValues(buf);
    // Rejection sampling keeps every character equally likely.
    if (buf[0]! < 224) out.push(ALPHABET[buf[0]! % ALPHABET.length]!);
  }
  return out.join('');
}

export function Users({ session }: { session: Session }) {
  useModel(session.model);
  const [users, setUsers] = useState<User[]>([]);
  const [roles, setRoles] = useState<string[]>([]);
  const [error, setError] = useState('');
  const [created, setCreated] = useState<{ login: string; password: string } | undefined>(undefined);

  // The revision of the list shown: two loads in flight (two user events close together) may answer
  // out of order, and the older answer must not replace the newer one. An older answer is dropped:
  // the list shown is already at least as recent (also after a switch to a node a moment behind).
  const shown = useRef(-1);
  const load = async () => {
    try {
      const [list, roleList] = await Promise.all([
        session.api.read<User[]>('/v1/users'),
        session.api.get<{ management: string }[]>('/v1/roles'),
      ]);
      if (list.revision !== undefined) {
        if (list.revision < shown.current) return;
        shown.current = list.revision;
      }
      setUsers(list.body.sort((a, b) => a.uid - b.uid));
      setRoles(roleList.map((r) => r.management));
    } catch (err) {
      setError(describeError(err));
    }
  };
  useEffect(() => void load(), [session.model.usersVersion]);

  const act = async (fn: () => Promise<unknown>) => {
    setError('');
    try {
      await fn();
      await load();
    } catch (err) {
      setError(describeError(err));
    }
  };
  return html`<section aria-labelledby="users-title">
    <h2 id="users-title">Users</h2>
    ${error ? html`<p class="error" role="alert" data-testid="users-error">${error}</p>` : null}
    ${
      created
        ? html`<div class="secret" role="status" data-testid="new-password">
            <p>
              User <strong>${created.login}</strong> was created with this password. It is shown once: copy it
              now.
            </p>
            <p><code>${created.password}</code></p>
            <button type="button" onClick=${() => setCreated(undefined)}>Done</button>
          </div>`
        : null
    }
    ${
      session.can('create_new_user')
        ? html`<${CreateUser} session=${session} roles=${roles} act=${act} onCreated=${setCreated} />`
        : null
    }
    <table class="users" data-testid="users">
      <thead>
        <tr>
          <th scope="col">User</th>
          <th scope="col">Email</th>
          <th scope="col">Role</th>
          <th scope="col">Status</th>
          <th scope="col"><span class="sr-only">Actions</span></th>
        </tr>
      </thead>
      <tbody>
        ${users.map((u) => html`<${UserRow} key=${u.uid} session=${session} u=${u} roles=${roles} act=${act} />`)}
      </tbody>
    </table>
  </section>`;
}

interface CreateProps {
  session: Session;
  roles: string[];
  act: (fn: () => Promise<unknown>) => Promise<void>;
  onCreated: (c: { login: string; password: string }) => void;
}

function CreateUser({ session, roles, act, onCreated }: CreateProps) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState('cluster_viewer');
  const submit = (e: Event) => {
    e.preventDefault();
    const password = generatePassword();
    const body = { ...(email ? { email } : {}), ...(name ? { name } : {}), role, password };
    void act(async () => {
      await session.api.call('POST', '/v1/users', body);
      onCreated({ login: email || name, password });
      setEmail('');
      setName('');
    });
  };
  return html`<form class="create-user" onSubmit=${submit} aria-label="Create a user">
    <label
      >Email
      <input
        name="email"
        inputmode="email"
        value=${email}
        onInput=${(e: Event) => setEmail((e.target as HTMLInputElement).value)}
    /></label>
    <label
      >Name
      <input name="name" value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)}
    /></label>
    <label
      >Role
      <select
        name="role"
        aria-label="Role of the new user"
        value=${role}
        onChange=${(e: Event) => setRole((e.target as HTMLSelectElement).value)}
      >
        ${roles.map((r) => html`<option value=${r}>${r}</option>`)}
      </select>
    </label>
    <button type="submit" class="primary">Create user</button>
  </form>`;
}

interface RowProps {
  session: Session;
  u: User;
  roles: string[];
  act: (fn: () => Promise<unknown>) => Promise<void>;
}

function UserRow({ session, u, roles, act }: RowProps) {
  const [role, setRole] = useState(u.role);
  const [confirming, setConfirming] = useState(false);
  useEffect(() => setRole(u.role), [u.role]);
  const self = session.me?.uid === u.uid;
  const login = u.email || u.name;
  return html`<tr data-user=${login}>
    <th scope="row" data-label="User">${u.name} <span class="sub">#${u.uid}</span></th>
    <td data-label="Email">${u.email || '–'}</td>
    <td data-label="Role">
      ${
        session.can('update_user')
          ? html`<select
                aria-label=${`Role of ${login}`}
                value=${role}
                onChange=${(e: Event) => setRole((e.target as HTMLSelectElement).value)}
              >
                ${roles.map((r) => html`<option value=${r}>${r}</option>`)}
              </select>
              ${
                role !== u.role
                  ? html` <button
                      type="button"
                      onClick=${() => void act(() => session.api.call('PUT', `/v1/users/${u.uid}`, { role }))}
                    >
                      Save role
                    </button>`
                  : null
              }`
          : u.role
      }
    </td>
    <td data-label="Status">${u.status}</td>
    <td data-label="Actions">
      ${
        session.can('delete_user') && !self
          ? confirming
            ? html`<span>Delete ${login}?</span>
                <button
                  type="button"
                  class="danger"
                  onClick=${() => void act(() => session.api.call('DELETE', `/v1/users/${u.uid}`))}
                >
                  Yes, delete
                </button>
                <button type="button" onClick=${() => setConfirming(false)}>No</button>`
            : html`<button type="button" aria-label=${`Delete ${login}`} onClick=${() => setConfirming(true)}>
                Delete
              </button>`
          : null
      }
    </td>
  </tr>`;
}
