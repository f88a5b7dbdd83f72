/**
 * The cluster's event stream (`GET /v1/events`, docs/events.md in the contract the API follows): an
 * EventSource authenticated by `?access_token=` (EventSource cannot send headers) and resumed by
 * `?last_event_id=` with the id of the last event applied, so a stream reopened on any node replays
 * exactly what was missed. The browser's own reconnect is not used: it would retry the same node with
 * the URL's first `last_event_id`; session.ts decides where to reconnect instead.
 */

export type StreamEventType = 'hello' | 'action' | 'master' | 'node' | 'user' | 'reset';
const TYPES: readonly StreamEventType[] = ['hello', 'action', 'master', 'node', 'user', 'reset'];

export interface StreamHandlers {
  /** One event, parsed; `id` is the store revision it carries (none for hello and reset). */
  event(type: StreamEventType, data: unknown, id: string | undefined): void;
  /** The stream failed or closed; `opened` tells whether it had said hello first. */
  broken(opened: boolean): void;
}

export class EventStream {
  #source: EventSource | undefined;
  /** The last event id applied: where a reopened stream resumes. */
  lastEventId: string | undefined;

  constructor(private readonly handlers: StreamHandlers) {}

  open(origin: string, token: string): void {
    this.close();
    const query = new URLSearchParams({ access_token: token });
    if (this.lastEventId !== undefined) query.set('last_event_id', this.lastEventId);
    const source = new EventSource(`${origin}/v1/events?${query.toString()}`);
    this.#source = source;
    let opened = false;
    for (const type of TYPES) {
      source.addEventListener(type, (e: MessageEvent<string>) => {
        if (this.#source !== source) return;
        if (type === 'hello') opened = true;
        let data: unknown;
        try {
          data = JSON.parse(e.data);
        } catch {
          return;
        }
        const id = e.lastEventId || undefined;
        this.handlers.event(type, data, type === 'hello' || type === 'reset' ? undefined : id);
        if (id !== undefined && type !== 'hello') this.lastEventId = id;
      });
    }
    source.onerror = () => {
      if (this.#source !== source) return;
      this.close();
      this.handlers.broken(opened);
    };
  }

  get isOpen(): boolean {
    return this.#source !== undefined;
  }

  close(): void {
    this.#source?.close();
    this.#source = undefined;
  }
}
