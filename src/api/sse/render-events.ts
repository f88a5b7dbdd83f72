/**
 * The event types of `GET /v1/events` (README.md, "Event streams"), rendered from one store revision's
 * raw changes and the view as of that revision. Rendering reads only the store's state, never this
 * node's own beliefs, so every node renders the same events for the same revision: that is what lets
 * a client resume on another node (cluster/change-feed.ts).
 */
import { actionRunRecord } from '../../actions/run.js';
import { frameEvent, type FeedEvent, type FeedRenderer } from '../../cluster/change-feed.js';
import type { ClusterKeys } from '../../cluster/keys.js';
import type { ClusterState } from '../../cluster/state.js';
import type { ClusterView } from '../../cluster/view.js';
import type { RecordType } from '../../store/typed-key.js';
import type { KeyValue, WatchEvent } from '../../store/types.js';
import { userRecord, usersFolder, type UserRecord } from '../../users/user-records.js';
import { toWireRun } from '../wire.js';

/** What a `user` event shows of a user: never the password hash or settings. */
interface UserSummary {
  readonly uid: number;
  readonly name: string;
  readonly email: string;
  readonly role: string;
}

function summary(user: UserRecord): UserSummary {
  return { uid: user.uid, name: user.name, email: user.email, role: user.role };
}

/** A changed record, checked against its schema; a malformed one is left out of the stream. */
function parse<T>(kv: KeyValue, type: RecordType<T>): T | undefined {
  try {
    return type.decode(kv.key, kv.value);
  } catch {
    return undefined;
  }
}

function event(revision: number, type: string, subject: string, data: unknown): FeedEvent {
  return { revision, type, subject, data, text: frameEvent(type, data) };
}

/** `master` data: the key's holder and term, `none` (with the last epoch) while nobody holds it. */
export function masterData(state: ClusterState): Record<string, unknown> {
  const master = state.master();
  const claim = state.masterClaim();
  if (!master || !claim) {
    const epoch = state.view.read(state.keys.epoch)?.epoch ?? 0;
    return { node_uid: null, epoch, master_status: 'none', since: null };
  }
  return {
    node_uid: master.node_uid,
    epoch: master.epoch,
    master_status: claim.handingOver ? 'handing_over' : 'master',
    since: new Date(master.since).toISOString(),
  };
}

export function createRenderer(view: ClusterView, keys: ClusterKeys, state: ClusterState): FeedRenderer {
  // A deleted user's key carries no value: its name comes from what the feed saw last.
  const users = new Map<number, UserSummary>();
  for (const u of view.readAll(usersFolder(keys))) users.set(u.uid, summary(u));

  const renderUser = (ev: WatchEvent, revision: number, uid: number): FeedEvent | undefined => {
    if (ev.type === 'delete') {
      const last = users.get(uid);
      users.delete(uid);
      return event(revision, 'user', String(uid), {
        ...(last ?? { uid, name: null, email: null, role: null }),
        change: 'deleted',
      });
    }
    const user = parse(ev.kv, userRecord);
    if (!user) return undefined;
    users.set(uid, summary(user));
    const change = ev.kv.createRevision === ev.kv.modRevision ? 'created' : 'updated';
    return event(revision, 'user', String(uid), { ...summary(user), change });
  };

  const renderNode = (ev: WatchEvent, revision: number, uid: number): FeedEvent | undefined => {
    // Only liveness changes: the record is rewritten under the same lease to prove freshness.
    if (ev.type === 'put' && ev.kv.createRevision !== ev.kv.modRevision) return undefined;
    const live = ev.type === 'put' ? parse(ev.kv, keys.nodes.type) : undefined;
    const member = view.read(keys.member(uid));
    const addr = live?.addr ?? member?.addr ?? '';
    return event(revision, 'node', String(uid), { uid, status: live ? 'active' : 'down', addr });
  };

  return (changes, revision) => {
    const out: FeedEvent[] = [];
    let masterChanged = false;
    for (const ev of changes) {
      const key = ev.kv.key;
      let rendered: FeedEvent | undefined;
      if (key === keys.master.key || key === keys.transfer.key) masterChanged = true;
      else if (key.startsWith(keys.actions) && ev.type === 'put') {
        const run = parse(ev.kv, actionRunRecord);
        if (run) rendered = event(revision, 'action', run.action_uid, toWireRun(run));
      } else if (key.startsWith(keys.nodes.prefix)) {
        rendered = renderNode(ev, revision, Number(key.slice(keys.nodes.prefix.length)));
      } else if (key.startsWith(keys.users)) {
        rendered = renderUser(ev, revision, Number(key.slice(keys.users.length)));
      }
      if (rendered) out.push(rendered);
    }
    if (masterChanged) out.push(event(revision, 'master', 'master', masterData(state)));
    return out;
  };
}
