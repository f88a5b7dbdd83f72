/**
 * The event streams (Server-Sent Events; README.md, "Event streams"):
 * - `GET /v1/events`: the cluster's changes (runs, master, nodes, users), permission as `GET /v1/cluster`;
 * - `GET /v1/actions/{uid}/events`: one run's changes, ending after its terminal status, permission as
 *   `GET /v1/actions/{uid}`.
 * Both start with `hello`, honour `Last-Event-ID` (a store revision) from any node, and say `reset`
 * when that revision is no longer in this node's replay window (cluster/change-feed.ts).
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

import { runKey } from '../../actions/run.js';
import { isTerminal, type ActionStatus } from '../../actions/status.js';
import { ChangeFeed, frameEvent, type FeedBatch } from '../../cluster/change-feed.js';
import { BosunError } from '../../errors/catalogue.js';
import { errorResponses } from '../schemas.js';
import type { ApiDeps } from '../server.js';
import { createRenderer } from '../sse/render-events.js';
import { SseConnection, type BatchFilter } from '../sse/sse-connection.js';
import { StreamHub, streamSettingsFromEnv, type StreamSettings } from '../sse/stream-hub.js';
import { toWireRun } from '../wire.js';

const StreamQuery = Type.Object(
  {
    access_token: Type.Optional(Type.String({ maxLength: 8192, description: 'a JWT, for EventSource' })),
    last_event_id: Type.Optional(Type.String({ maxLength: 32, description: 'as the Last-Event-ID header' })),
  },
  { additionalProperties: true },
);

/** The revision to resume after: the `Last-Event-ID` header, else `?last_event_id=`; 400 if not one. */
export function lastEventId(header: unknown, query: string | undefined): number | undefined {
  const raw = typeof header === 'string' ? header : query;
  if (raw === undefined || raw === '') return undefined;
  if (!/^[0-9]{1,15}$/.test(raw.trim())) {
    throw new BosunError(
      'invalid_schema',
      `Last-Event-ID must be a store revision (a decimal integer of at most 15 digits), not "${raw.slice(0, 40)}".`,
    );
  }
  return Number(raw.trim());
}

/** The documented answer: a stream, not JSON (the handler writes it itself, past Fastify's serializer). */
const streamResponses = {
  200: {
    description:
      'A text/event-stream of hello, then action/master/node/user events (README.md, "Event streams").',
    content: { 'text/event-stream': { schema: Type.String() } },
  },
  ...errorResponses,
};

const idFrame = (revision: number, text: string) => `id: ${revision}\n${text}\n`;

export function eventRoutes(
  deps: ApiDeps,
  settings: StreamSettings = streamSettingsFromEnv(),
): FastifyPluginAsyncTypebox {
  return async (app) => {
    const feed = new ChangeFeed(
      deps.view,
      createRenderer(deps.view, deps.keys, deps.state),
      settings.windowEvents,
    );
    const hub = new StreamHub(settings);
    app.addHook('preClose', async () => hub.closeAll());
    app.addHook('onClose', async () => feed.close());

    const hello = () =>
      `event: hello\ndata: ${JSON.stringify({ revision: feed.revision, node_uid: deps.selfUid })}\n\n`;
    const reset = (revision: number) => idFrame(revision, frameEvent('reset', { revision }));

    /**
     * Where a stream resumes: after `after` when the window still holds it; otherwise (and when the
     * client sent no Last-Event-ID) from now. A Last-Event-ID this node's view has not reached yet
     * (the client came from a node that was ahead) is waited for, briefly; past that it is bogus.
     */
    const resumePoint = async (after: number | undefined) => {
      if (after === undefined) return { cursor: feed.revision, gone: false };
      if (after > feed.revision) await deps.view.waitFor(after, 3000).catch(() => undefined);
      if (after > feed.revision || !feed.since(after)) return { cursor: feed.revision, gone: true };
      return { cursor: after, gone: false };
    };

    app.get(
      '/v1/events',
      {
        config: { permission: 'view_cluster_info', stream: true },
        schema: { querystring: StreamQuery, response: streamResponses },
      },
      async (request, reply) => {
        const after = lastEventId(request.headers['last-event-id'], request.query.last_event_id);
        const { cursor, gone } = await resumePoint(after);
        const conn = hub.start(request, reply, (onClosed) => {
          const filter: BatchFilter = (batch) => ({ frame: batch.frame, end: false });
          const onReset = (revision: number) => ({ frame: reset(revision), end: false });
          return new SseConnection(reply.raw, feed, filter, onReset, cursor, onClosed);
        });
        conn.write(hello());
        if (gone) conn.write(reset(feed.revision));
        conn.follow();
      },
    );

    app.get(
      '/v1/actions/:uid/events',
      {
        config: { permission: 'view_status_of_cluster_action', stream: true },
        schema: {
          params: Type.Object({ uid: Type.String({ minLength: 1, maxLength: 64 }) }),
          querystring: StreamQuery,
          response: streamResponses,
        },
      },
      async (request, reply) => {
        const uid = request.params.uid;
        const key = runKey(deps.keys, uid);
        // A run accepted elsewhere moments ago may not be in this node's view yet: the store says.
        const confirmed = await deps.view.getConfirmed(key.key);
        if (!confirmed) throw new BosunError('action_not_found', `No action with uid ${uid}.`);
        if (!deps.view.get(key.key))
          await deps.view.waitFor(confirmed.modRevision, 3000).catch(() => undefined);
        const after = lastEventId(request.headers['last-event-id'], request.query.last_event_id);
        const { cursor, gone } = await resumePoint(after);
        const kv = deps.view.get(key.key);
        if (!kv) throw new BosunError('action_not_found', `No action with uid ${uid}.`);
        const run = deps.view.read(key)!;
        const current = (revision: number) => {
          const now = deps.view.read(key) ?? run;
          return {
            frame: idFrame(revision, frameEvent('action', toWireRun(now))),
            end: isTerminal(now.status),
          };
        };
        const conn = hub.start(request, reply, (onClosed) => {
          const filter: BatchFilter = (batch: FeedBatch) => {
            let frame = '';
            let end = false;
            for (const e of batch.events) {
              if (e.type !== 'action' || e.subject !== uid) continue;
              frame += idFrame(batch.revision, e.text);
              end = isTerminal((e.data as { status: ActionStatus }).status);
            }
            return { frame, end };
          };
          return new SseConnection(reply.raw, feed, filter, current, cursor, onClosed);
        });
        conn.write(hello());
        // Without a replayable Last-Event-ID, the run as it stands (unless the client has it already).
        if (after === undefined || gone) {
          if (after === undefined || kv.modRevision > after) {
            const first = current(kv.modRevision);
            conn.write(first.frame);
            if (first.end) return conn.close('done');
          }
        } else if (isTerminal(run.status) && kv.modRevision <= after) {
          // The client saw the terminal status already.
          return conn.close('done');
        }
        conn.follow();
      },
    );
  };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** An event stream: also takes `?access_token=` (EventSource cannot send headers). */
    stream?: boolean;
  }
}
