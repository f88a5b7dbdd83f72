/**
 * Serialised response bodies that depend only on a read model, rebuilt once per view revision
 * instead of once per request. Status polling (what every client of this API does in a loop) then
 * costs a map lookup; the first request after a change pays for the serialisation.
 */
import type { FastifyReply } from 'fastify';

/** Anything whose answers stay the same until its revision moves: the read models (docs/design.md, "Layers"). */
export interface Revisioned {
  readonly revision: number;
}

export class BodyCache {
  readonly #bodies = new Map<string, { revision: number; body: string }>();

  constructor(private readonly source: Revisioned) {}

  /** Sends the cached JSON for `key`, building it with `build` when the view has moved on. */
  send(reply: FastifyReply, key: string, build: () => unknown): FastifyReply {
    return this.sendSerialized(reply, key, () => JSON.stringify(build()));
  }

  /** As `send`, for a builder that produces the JSON text itself. */
  sendSerialized(reply: FastifyReply, key: string, build: () => string): FastifyReply {
    const revision = this.source.revision;
    let hit = this.#bodies.get(key);
    if (hit?.revision !== revision) {
      // `build` may throw (a 404, say): nothing is cached then.
      hit = { revision, body: build() };
      this.#bodies.set(key, hit);
    }
    return sendJsonText(reply, hit.body);
  }
}

/** Sends JSON text that is already serialised (Fastify passes a string body through untouched). */
export function sendJsonText(reply: FastifyReply, text: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(text);
}
