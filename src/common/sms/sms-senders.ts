/**
 * Who an inbound SMS came from, as Twilio signed it: a phone number (E.164), a short code
 * ("72345") or an alphanumeric sender ID ("VERIFY", carrier notices and other services' codes).
 * All of them are stored and shown in the inbox; only some can be texted back.
 */
import { E164 } from './sms-patterns';

/**
 * The `From` values we store: what Twilio signed, within sane bounds (no control characters,
 * which includes NUL that PostgreSQL text cannot hold).
 */
const STORABLE_SENDER = /^[^\p{Cc}]{1,64}$/u;

export const isStorableSender = (from: string): boolean =>
  STORABLE_SENDER.test(from) && from.trim() !== '';

/**
 * Whether anyone (the bot or a person in the inbox) may text `from` back from `ourNumber`: only a
 * phone number in E.164 that is not our own. A short code or an alphanumeric sender cannot receive
 * an SMS from a long code (Twilio refuses the send), and answering our own number would make the
 * bot text itself, in a loop.
 */
export function isReplyableSender(from: string, ourNumber: string): boolean {
  return E164.test(from) && from !== ourNumber;
}
