/**
 * The event streams (Server-Sent Events; README.md, "Event streams"):
 * - `GET /v1/events`: the cluster's changes (runs, master, nodes, users), permission as `GET /v1/cluster`;
 * - `GET /v1/actions/{uid}/events`: one run's changes, ending after its terminal status, permission as
 *   `GET /v1/actions/{uid}`.
 * Both start with `hello`, honour `Last-Event-ID` (a store revision) from any node, and say `reset`
 * when that revision is no longer in this node's replay window (cluster/change-feed.ts).
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

import type { RunReadModel } from '../../actions/run-read-model.js';
import { frameEvent, type ChangeFeed } from '../../cluster/change-feed.js';
import { BosunError } from '../../errors/catalogue.js';
import { errorResponses } from '../schemas.js';
import { SseConnection, type BatchFilter } from '../sse/sse-connection.js';
import { currentRun, idFrame, runFilter, runOpening, viewedRun } from '../sse/run-stream.js';
import { StreamHub, streamSettingsFromEnv, type StreamSettings } from '../sse/stream-hub.js';

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

export interface EventRoutesOptions {
  /** The cluster's rendered changes and their replay window (built by node/node.ts, which closes it). */
  readonly feed: ChangeFeed;
  readonly runs: RunReadModel;
  /** This node, named in `hello`. */
  readonly selfUid: number;
  /** Stream limits. (Default: from the environment, sse/stream-hub.ts) */
  readonly settings?: StreamSettings | undefined;
}

export const eventRoutes: FastifyPluginAsyncTypebox<EventRoutesOptions> = async (app, options) => {
  const { feed, runs, selfUid } = options;
  const settings = options.settings ?? streamSettingsFromEnv();
  const hub = new StreamHub(settings);
  app.addHook('preClose', async () => hub.closeAll());

  const hello = () =>
    `event: hello\ndata: ${JSON.stringify({ revision: feed.revision, node_uid: selfUid })}\n\n`;
  const reset = (revision: number) => idFrame(revision, frameEvent('reset', { revision }));

  /**
   * Where a stream resumes: after `after` when the window still holds it; otherwise (and when the
   * client sent no Last-Event-ID) from now. A Last-Event-ID this node's view has not reached yet
   * (the client came from a node that was ahead) is waited for, briefly; past that it is bogus.
   */
  const resumePoint = async (after: number | undefined) => {
    if (after === undefined) return { cursor: feed.revision, gone: false };
    if (after > feed.revision) await feed.waitFor(after, 3000).catch(() => undefined);
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
      await viewedRun(runs, uid);
      const after = lastEventId(request.headers['last-event-id'], request.query.last_event_id);
      const { cursor, gone } = await resumePoint(after);
      const opening = runOpening(runs, uid, after, gone);
      const current = currentRun(runs, uid);
      const conn = hub.start(
        request,
        reply,
        (onClosed) => new SseConnection(reply.raw, feed, runFilter(uid), current, cursor, onClosed),
      );
      conn.write(hello());
      conn.write(opening.frame);
      if (opening.close) return conn.close('done');
      conn.follow();
    },
  );
};

declare module 'fastify' {
  interface FastifyContextConfig {
    /** An event stream: also takes `?access_token=` (EventSource cannot send headers). */
    stream?: boolean;
  }
}
