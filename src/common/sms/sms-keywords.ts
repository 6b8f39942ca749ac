export type SmsKeywordKind = 'opt-out' | 'opt-in' | 'help';

/**
 * Twilio's default keywords (Advanced Opt-Out defaults; "Twilio support for opt-out keywords (SMS
 * STOP filtering)", help.twilio.com/hc/en-us/articles/223134027, and the Advanced Opt-Out guide,
 * twilio.com/docs/messaging/tutorials/advanced-opt-out). OPTOUT and REVOKE joined the opt-out list
 * on 14 May 2025, Twilio's update for the FCC's opt-out rule. Twilio itself blocks and unblocks
 * the sender on these; we mirror that state and never answer them with the agent. The one list:
 * README and Swagger texts are written from it.
 */
export const OPT_OUT_KEYWORDS = [
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'OPTOUT',
  'REVOKE',
] as const;
export const OPT_IN_KEYWORDS = ['START', 'YES', 'UNSTOP'] as const;
export const HELP_KEYWORDS = ['HELP', 'INFO'] as const;

const KEYWORDS: ReadonlyMap<string, SmsKeywordKind> = new Map<string, SmsKeywordKind>([
  ...OPT_OUT_KEYWORDS.map((keyword) => [keyword, 'opt-out'] as const),
  ...OPT_IN_KEYWORDS.map((keyword) => [keyword, 'opt-in'] as const),
  ...HELP_KEYWORDS.map((keyword) => [keyword, 'help'] as const),
]);

// Values Twilio sends in the inbound webhook's `OptOutType` parameter.
const OPT_OUT_TYPES: ReadonlyMap<string, SmsKeywordKind> = new Map<string, SmsKeywordKind>([
  ['STOP', 'opt-out'],
  ['START', 'opt-in'],
  ['HELP', 'help'],
]);

// Phones and people add a full stop or an exclamation mark ("Stop.", "STOP!"); Twilio still
// honours those, so we must too or our opt-out state would drift from Twilio's.
const TRAILING_PUNCTUATION = /[\s.,;:!?\u2026]+$/u;

/**
 * Classifies an inbound SMS as an opt-out/opt-in/help keyword, or null for a normal message.
 *
 * Only a message consisting of the keyword alone counts: "please don't stop" is a
 * conversation, not an opt-out. When Twilio's `OptOutType` is present it wins, because it
 * reflects the Messaging Service's own (possibly customised) keyword list; an unrecognised
 * `OptOutType` value is ignored and the body decides.
 */
export function classifyKeyword(body: string, optOutType?: string): SmsKeywordKind | null {
  const fromTwilio = optOutType ? OPT_OUT_TYPES.get(optOutType.trim().toUpperCase()) : undefined;
  if (fromTwilio) return fromTwilio;

  // NFKC folds full-width letters ("ＳＴＯＰ") that some keyboards produce.
  const keyword = body.normalize('NFKC').trim().replace(TRAILING_PUNCTUATION, '').toUpperCase();
  return KEYWORDS.get(keyword) ?? null;
}
