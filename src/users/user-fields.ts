/**
 * The user fields Redis Enterprise documents beyond login and role (its user object): alert
 * settings and the account status. Bosun stores and returns them; it sends no e-mail, so the alert
 * settings change nothing else.
 */
export type UserStatus = 'active' | 'locked';

export interface UserSettings {
  /** Default true, as on RE. */
  readonly email_alerts: boolean;
  readonly cluster_email_alerts?: boolean | undefined;
  /** Database uids to alert about (strings, as RE's clients send them); Bosun has no databases. */
  readonly bdbs_email_alerts?: readonly string[] | undefined;
  /** `locked` users cannot sign in. Default `active`. */
  readonly status: UserStatus;
}

export const defaultUserSettings: UserSettings = { email_alerts: true, status: 'active' };
