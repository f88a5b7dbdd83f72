import type { EpochRecord } from './keys.js';

/** One continuous period of this node being master (master.ts, hand-over.ts). */
export interface MasterTerm {
  /** The master key's mod revision: the fencing token. */
  readonly token: number;
  readonly epoch: number;
  /** Unix ms when the term began (the election or take-over transaction returned). */
  readonly since: number;
  /** The `change_master` run whose hand-over made this node master, if any. */
  readonly viaAction: string | undefined;
  /** With `viaAction`: unix ms when the old master wrote the intent. */
  readonly intentAt?: number | undefined;
  /** The term before this one. */
  readonly previous: EpochRecord | undefined;
}
