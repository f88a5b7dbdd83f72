/** The action names Bosun supports, each with its handler. */
import type { ActionHandler } from './handler.js';
import { changeMaster } from './handlers/change-master.js';

export class HandlerRegistry {
  readonly #handlers = new Map<string, ActionHandler<never>>();

  register<P>(handler: ActionHandler<P>): this {
    if (this.#handlers.has(handler.name)) throw new Error(`action ${handler.name} is registered twice`);
    this.#handlers.set(handler.name, handler as unknown as ActionHandler<never>);
    return this;
  }

  get(name: string): ActionHandler<unknown> | undefined {
    return this.#handlers.get(name);
  }

  names(): string[] {
    return [...this.#handlers.keys()].sort();
  }
}

/** The cluster-wide actions `/v1/cluster/actions/<name>` accepts. */
export function clusterActionHandlers(): HandlerRegistry {
  return new HandlerRegistry().register(changeMaster);
}
