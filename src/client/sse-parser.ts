/**
 * An incremental parser of the Server-Sent Events format (WHATWG HTML, "Server-sent events"): feed it
 * chunks as they arrive, get whole events back. Comments (such as `: heartbeat`) are counted, not
 * returned. An event's `id` is the `id:` field it carried, if any; `lastEventId` follows the spec's
 * rule (an event without `id:` keeps the previous one).
 */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
  readonly id: string | undefined;
}

export class SseParser {
  #buffer = '';
  #event = '';
  #data: string[] = [];
  #id: string | undefined;
  lastEventId: string | undefined;
  comments = 0;

  /** Parses a chunk; returns the events it completed. */
  push(chunk: string): SseEvent[] {
    this.#buffer += chunk;
    const out: SseEvent[] = [];
    let nl: number;
    while ((nl = this.#buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.#buffer.slice(0, nl);
      const width = this.#buffer.startsWith('\r\n', nl) ? 2 : 1;
      this.#buffer = this.#buffer.slice(nl + width);
      const ev = this.#line(line);
      if (ev) out.push(ev);
    }
    return out;
  }

  #line(line: string): SseEvent | undefined {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) {
      this.comments++;
      return undefined;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') this.#data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
    return undefined;
  }

  #dispatch(): SseEvent | undefined {
    const id = this.#id;
    if (id !== undefined) this.lastEventId = id;
    const ev =
      this.#data.length > 0 || this.#event !== ''
        ? { event: this.#event || 'message', data: this.#data.join('\n'), id }
        : undefined;
    this.#event = '';
    this.#data = [];
    this.#id = undefined;
    return ev;
  }
}
