/** change_master's parameters and the parsing of its POST body, shared by the run and the dry run. */
import { BosunError } from '../../errors/catalogue.js';
import { preview } from '../../errors/preview.js';

export interface ChangeMasterParams {
  readonly node_uid: number;
}

/** Accepts `"2"` and `2`, as real clients send both; anything else is a 400. */
export function parseNodeUid(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  if (typeof value === 'string' && /^[1-9][0-9]{0,8}$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

/** The body's shape alone (a 400 when wrong); whether the target can take over is checked apart. */
export function parseChangeMasterBody(body: unknown): ChangeMasterParams {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BosunError('invalid_schema', 'change_master needs a JSON object body with "node_uid".');
  }
  const raw = (body as Record<string, unknown>).node_uid;
  if (raw === undefined) throw new BosunError('invalid_schema', 'Missing field "node_uid".');
  const uid = parseNodeUid(raw);
  if (uid === undefined) {
    throw new BosunError(
      'invalid_schema',
      `"node_uid" must be a positive integer or a string of one, got ${preview(raw)}.`,
    );
  }
  return { node_uid: uid };
}
