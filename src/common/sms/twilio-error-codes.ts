export type TwilioSendErrorKind = 'transient' | 'permanent';

export interface TwilioSendErrorInfo {
  /** HTTP status of Twilio's API response; absent when no response arrived. */
  status?: number;
  /** Twilio error code (https://www.twilio.com/docs/api/errors). */
  code?: number;
}

/** 20003: Twilio rejected the Account SID and Auth Token (a reply held for it carries the code). */
export const AUTHENTICATION_FAILED = 20003;
const TOO_MANY_REQUESTS_CODE = 20429;
/** 20404: the resource (a number, a service) is not, or no longer, on the account. */
export const RESOURCE_NOT_FOUND = 20404;
/** 21610: the recipient opted out of this sender (Twilio's own STOP list). */
export const RECIPIENT_OPTED_OUT = 21610;
/** 21606 (not an SMS number of this account) and 21212 (invalid From): the number left the account. */
export const FROM_NOT_ON_ACCOUNT: readonly number[] = [21606, 21212];

// Send-time codes that retrying cannot fix. Listed explicitly, not just inferred from a 4xx,
// because they decide the outcome even when the HTTP status is missing.
const PERMANENT_CODES: ReadonlySet<number> = new Set([
  21211, 21408, 21606, 21608, 21610, 21614, 21617,
]);

/**
 * Decides whether a failed Twilio send is worth retrying.
 *
 * No status means the request never got an answer (network error, timeout), so the message
 * may still go through on retry. Statuses outside 4xx that are not 429/5xx are also treated
 * as transient: a few wasted retries cost less than silently dropping a reply.
 */
export function classifyTwilioSendError({
  status,
  code,
}: TwilioSendErrorInfo): TwilioSendErrorKind {
  if (code === TOO_MANY_REQUESTS_CODE) return 'transient';
  if (code !== undefined && PERMANENT_CODES.has(code)) return 'permanent';
  if (status === undefined) return 'transient';
  if (status === 429 || status >= 500) return 'transient';
  if (status >= 400 && status < 500) return 'permanent';
  return 'transient';
}

const DESCRIPTIONS: ReadonlyMap<number, string> = new Map([
  [20003, 'Twilio authentication failed (check the Account SID and Auth Token)'],
  [20429, 'Too many requests to Twilio'],
  [21211, "Invalid 'To' phone number"],
  [21408, "Sending SMS to the 'To' number's region is not enabled on this Twilio account"],
  [21606, "The 'From' number is not a valid SMS-capable number for this Twilio account"],
  [21608, 'Trial account: the recipient number is not verified'],
  [21610, 'The recipient has opted out (replied STOP)'],
  [21614, "The 'To' number is not a mobile number"],
  [21617, 'Message body is too long (over 1,600 characters)'],
  [30003, 'Unreachable destination handset'],
  [30004, 'Message blocked'],
  [30005, 'Unknown destination handset'],
  [30006, 'Landline or unreachable carrier'],
  [30007, 'Message filtered by the carrier'],
  [30008, 'Unknown error'],
]);

/**
 * A short English reason for a Twilio error code, for inbox status and logs. Unknown codes
 * get `fallback` (typically Twilio's own message) or a generic text naming the code.
 */
export function describeTwilioErrorCode(
  code: number | null | undefined,
  fallback?: string,
): string {
  const description = code == null ? undefined : DESCRIPTIONS.get(code);
  if (description) return description;
  if (fallback) return fallback;
  // "Twilio error null" would tell a reader nothing.
  return code == null ? 'Unknown Twilio error' : `Twilio error ${code}`;
}
