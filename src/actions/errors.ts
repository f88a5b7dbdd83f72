/**
 * The errors an action handler throws to end its run (the status table's own IllegalTransitionError
 * stays with the table, status.ts). They are domain errors: a run that fails records
 * its catalogue code, and nothing here knows HTTP (the API maps codes to statuses, api/http-errors.ts).
 */
import type { ErrorCode } from '../errors/catalogue.js';

/** Thrown by a handler to fail its run with a catalogue code and a clear message. */
export class ActionFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly outcome?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ActionFailure';
  }
}

/** Thrown by a handler that honoured a cancel before its point of no return. */
export class ActionCancelled extends Error {
  constructor(readonly outcome?: Record<string, unknown>) {
    super('cancelled');
    this.name = 'ActionCancelled';
  }
}
