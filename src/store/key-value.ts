/**
 * What both backends share when they turn their own rows into the store contract's shapes: one
 * KeyValue constructor (revisions as numbers, "no lease" as undefined) and the grouping of a change
 * stream into one batch per revision.
 */
import type { KeyValue } from './types.js';

/** A KeyValue from a backend's fields; `lease` 0, '0', '' or null means "no lease". */
export function toKv(
  key: string,
  value: string,
  createRevision: number | string,
  modRevision: number | string,
  version: number | string,
  lease: number | string | null | undefined,
): KeyValue {
  return {
    key,
    value,
    createRevision: Number(createRevision),
    modRevision: Number(modRevision),
    version: Number(version),
    lease:
      lease === null || lease === undefined || lease === 0 || lease === '0' || lease === ''
        ? undefined
        : String(lease),
  };
}

/** Consecutive items of one revision, in order: one batch per revision (a watch delivers them so). */
export function groupByRevision<T>(
  items: readonly T[],
  revisionOf: (item: T) => number,
): { revision: number; events: T[] }[] {
  const batches: { revision: number; events: T[] }[] = [];
  for (const item of items) {
    const revision = revisionOf(item);
    const last = batches.at(-1);
    if (last && last.revision === revision) last.events.push(item);
    else batches.push({ revision, events: [item] });
  }
  return batches;
}
