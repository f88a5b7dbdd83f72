/**
 * Request events for the cluster event log (cluster/event-log.ts), written by the node that answered the
 * request, after the answer: actions requested and cancels requested, users created, changed and
 * deleted, and failed logins. Each entry names the acting user and the request id. Nothing secret is
 * written: a user change lists the names of the fields that changed, never their values.
 *
 * The writes never delay or fail the answer; a lost write is counted in the metrics.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

import type { EventLog } from '../cluster/event-log.js';
import type { UserDirectory } from '../users/user-directory.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Facts a route adds for the event log entry of this request. */
    audit?: Record<string, unknown>;
  }
}

/** The scheme of a failed login, for the log and the metrics: `basic`, `jwt` or `other`. */
export function authScheme(request: FastifyRequest): 'basic' | 'jwt' | 'other' {
  const auth = request.headers.authorization;
  if (auth === undefined) return 'basic'; // the older body form of /v1/users/authorize
  const scheme = auth.slice(0, auth.indexOf(' ')).toLowerCase();
  return scheme === 'basic' ? 'basic' : scheme === 'jwt' || scheme === 'bearer' ? 'jwt' : 'other';
}

/** Whether a 401 was a login that failed (credentials given) rather than a request without any. */
export function isFailedLogin(request: FastifyRequest, status: number): boolean {
  return (
    status === 401 &&
    (request.headers.authorization !== undefined || request.routeOptions.url === '/v1/users/authorize')
  );
}

/** The email a Basic header or the authorize body names, if any (never the password). */
function attemptedUser(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (auth && auth.slice(0, 6).toLowerCase() === 'basic ') {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon > 0 ? decoded.slice(0, Math.min(colon, 254)) : undefined;
  }
  const body = request.body as { username?: unknown } | undefined;
  return typeof body?.username === 'string' ? body.username.slice(0, 254) : undefined;
}

function parsed(payload: unknown): Record<string, unknown> | undefined {
  if (typeof payload !== 'string' || payload === '') return undefined;
  try {
    const value = JSON.parse(payload) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Failed logins are logged one by one up to `perSecond` a second on each node; beyond that, one
 * `login_failed_suppressed` entry a second counts the rest. A flood of bad passwords then cannot push
 * the rest of the audit trail out of the retention window, nor turn into a store write per request.
 */
export class FailedLoginThrottle {
  #windowStart = 0;
  #inWindow = 0;
  #suppressed = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly events: EventLog,
    private readonly selfUid: number,
    private readonly perSecond = 10,
  ) {}

  record(fields: Record<string, unknown>): void {
    const now = Date.now();
    if (now - this.#windowStart >= 1000) {
      this.#flushSuppressed();
      this.#windowStart = now;
      this.#inWindow = 0;
    }
    if (this.#inWindow < this.perSecond) {
      this.#inWindow++;
      void this.events.record('login_failed', 'WARNING', fields);
      return;
    }
    this.#suppressed++;
    if (!this.#timer) {
      this.#timer = setTimeout(() => this.#flushSuppressed(), Math.max(1, 1000 - (now - this.#windowStart)));
      this.#timer.unref();
    }
  }

  #flushSuppressed(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#suppressed === 0) return;
    void this.events.record('login_failed_suppressed', 'WARNING', {
      count: this.#suppressed,
      node_uid: this.selfUid,
    });
    this.#suppressed = 0;
  }
}

/** One successful request's event: its type and fields, from the request and the answer's body. */
type AuditEntry = (
  request: FastifyRequest,
  body: Record<string, unknown> | undefined,
) => { readonly type: string; readonly fields: Record<string, unknown> };

const uidParam = (request: FastifyRequest): number => Number((request.params as { uid?: string }).uid);

/** What each audited route records after it answered 200, by method and route pattern. */
const audited: Readonly<Record<string, AuditEntry>> = {
  'POST /v1/cluster/actions/:action': (_request, run) => ({
    type: 'action_requested',
    fields: { action: run?.name, action_uid: run?.action_uid },
  }),
  'DELETE /v1/cluster/actions/:action': (request, run) => ({
    type: request.audit?.result === 'removed' ? 'action_status_removed' : 'action_cancel_requested',
    fields: { action: run?.name, action_uid: run?.action_uid },
  }),
  'POST /v1/users': (_request, user) => ({
    type: 'user_created',
    fields: { uid: user?.uid, email: user?.email, role: user?.role },
  }),
  'PUT /v1/users/:uid': (request, user) => ({
    type: 'user_updated',
    fields: {
      uid: user?.uid,
      email: user?.email,
      role: user?.role,
      changed: Object.keys((request.body as Record<string, unknown> | undefined) ?? {}).sort(),
    },
  }),
  'DELETE /v1/users/:uid': (request) => ({
    type: 'user_deleted',
    fields: { uid: uidParam(request), email: request.audit?.email },
  }),
};

export function installAudit(
  app: FastifyInstance,
  events: EventLog,
  users: UserDirectory,
  selfUid: number,
): void {
  const failedLogins = new FailedLoginThrottle(events, selfUid);
  // A deleted user's email is gone after the handler: note it before.
  app.addHook('preHandler', (request, _reply, done) => {
    if (request.method === 'DELETE' && request.routeOptions.url === '/v1/users/:uid') {
      const email = users.byUid(uidParam(request))?.user.email;
      request.audit = { ...request.audit, email };
    }
    done();
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    const status = reply.statusCode;
    const common = { user: request.principal?.email, request_id: request.id, node_uid: selfUid };
    const route = request.routeOptions.url;
    if (isFailedLogin(request, status)) {
      failedLogins.record({ ...common, user: attemptedUser(request), scheme: authScheme(request) });
    } else if (status === 200 && route !== undefined) {
      const entry = audited[`${request.method} ${route}`];
      if (entry) {
        const { type, fields } = entry(request, parsed(payload));
        void events.record(type, 'INFO', { ...common, ...fields });
      }
    }
    done(null, payload);
  });
}

/** Records a lockout (for the lockout policy: it calls this when it locks an account). */
export function recordLockout(events: EventLog, email: string, requestId?: string): void {
  void events.record('user_locked_out', 'WARNING', { user: email, request_id: requestId });
}
