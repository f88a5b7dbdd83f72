/**
 * How a process learns of other processes' writes to the shared file: a short poll timer, and a wake
 * on file-system notifications for the WAL, chased until the commit shows.
 */
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export class WalPoller {
  #timer: NodeJS.Timeout | undefined;
  #fsWatcher: FSWatcher | undefined;
  #chasing = false;
  #closed = false;

  constructor(
    path: string,
    private readonly intervalMs: number,
    private readonly poll: () => void,
    /** The revision delivered so far: a chase ends when it moves. */
    private readonly dispatched: () => number,
  ) {
    this.#loop();
    try {
      // A wake-up when another process commits (its WAL file changes); the timer remains the backstop.
      const walName = `${basename(path)}-wal`;
      this.#fsWatcher = fsWatch(dirname(path), (_type, file) => {
        if (file === walName) this.#chase();
      });
      this.#fsWatcher.unref();
      this.#fsWatcher.on('error', () => this.#fsWatcher?.close());
    } catch {
      // Some file systems cannot be watched; polling alone still works.
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#fsWatcher?.close();
  }

  #loop(): void {
    this.#timer = setTimeout(() => {
      this.poll();
      if (!this.#closed) this.#loop();
    }, this.intervalMs);
    this.#timer.unref();
  }

  /**
   * The WAL file changes while the writer is still committing: its frames land before the shared
   * index says they are committed, and index updates (in mmapped memory) raise no file event. So a
   * poll right at the event often sees nothing new; look again a few times, a millisecond apart,
   * until the commit shows. Without this, other processes' writes wait for the poll timer.
   */
  #chase(): void {
    if (this.#chasing || this.#closed) return;
    this.#chasing = true;
    const seen = this.dispatched();
    let tries = 0;
    const look = (): void => {
      this.poll();
      if (this.dispatched() > seen || ++tries >= 12 || this.#closed) {
        this.#chasing = false;
        return;
      }
      // A commit usually shows within tens of microseconds: look again at once a few times first.
      if (tries < 6) setImmediate(look);
      else setTimeout(look, 1).unref();
    };
    setImmediate(look);
  }
}
