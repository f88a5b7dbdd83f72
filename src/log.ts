/** The process logger: JSON lines (pino), level from BOSUN_LOG_LEVEL. (Default: info) */
import { pino, type Logger } from 'pino';

export function createLogger(
  bindings: Record<string, unknown> = {},
  destination?: NodeJS.WritableStream,
): Logger {
  const level = process.env.BOSUN_LOG_LEVEL ?? 'info';
  return pino(
    { level, base: { pid: process.pid, ...bindings } },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
