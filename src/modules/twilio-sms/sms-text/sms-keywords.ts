export type SmsKeywordKind = 'opt-out' | 'opt-in' | 'help';

// Twilio Advanced Opt-Out default keywords. Twilio itself already blocks/unblocks the sender
// on these; classifying them lets us mirror that state and skip replying with the agent.
const KEYWORDS: ReadonlyMap<string, SmsKeywordKind> = new Map<string, SmsKeywordKind>([
  ['STOP', 'opt-out'],
  ['STOPALL', 'opt-out'],
  ['UNSUBSCRIBE', 'opt-out'],
  ['CANCEL', 'opt-out'],
  ['END', 'opt-out'],
  ['QUIT', 'opt-out'],
  ['START', 'opt-in'],
  ['YES', 'opt-in'],
  ['UNSTOP', 'opt-in'],
  ['HELP', 'help'],
  ['INFO', 'help'],
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
