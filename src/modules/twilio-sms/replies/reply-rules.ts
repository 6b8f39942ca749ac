/**
 * When the bot answers an SMS, decided here and nowhere else in code: whether an inbound message
 * asks for an answer at all (at the webhook), and what the reply job does with it when it runs
 * (answer, deliver an answer stored before, or skip, and why). Whether the bot may answer in a
 * conversation (nobody took it over, no opt-out) is one SQL rule, ConversationSql.botMayAnswer,
 * that both the webhook's statement and the job's load evaluate.
 */
import { isReplyableSender, SmsKeywordKind } from '../../../common/sms';
import type { InboundForReply } from '../../inbox';

/**
 * An inbound message asks for the bot's answer: it is not a keyword (opt-out, opt-in and help are
 * Twilio's to answer), it says something or carries something, and its sender can be texted back
 * from the number (not a short code, an alphanumeric sender ID or the number itself).
 */
export function wantsReply(message: {
  keyword: SmsKeywordKind | null;
  body: string;
  mediaDropped: number;
  from: string;
  channelNumber: string;
}): boolean {
  return (
    message.keyword === null &&
    (message.body.trim() !== '' || message.mediaDropped > 0) &&
    isReplyableSender(message.from, message.channelNumber)
  );
}

export type ReplySkip =
  'skipped-not-bot' | 'skipped-opted-out' | 'skipped-loop-guard' | 'skipped-no-channel';

export type ReplyDecision = 'deliver-existing' | 'answer' | ReplySkip;

/**
 * What the reply job does with an inbound message, checked again when it runs (a person may have
 * taken the conversation over, the customer opted out or the number been disconnected since the
 * webhook queued it):
 * - an answer an earlier run stored is delivered, never written twice;
 * - the bot stays silent where it may not answer, and when the conversation has no channel;
 * - the loop guard: an auto-responder on the other end must not ping-pong with the bot forever,
 *   so at most `botRepliesPerMinute` bot replies a minute per conversation.
 */
export function replyDecision(
  inbound: Pick<
    InboundForReply,
    'existing_reply_id' | 'bot_may_answer' | 'status' | 'channel_id' | 'bot_replies_last_minute'
  >,
  botRepliesPerMinute: number,
): ReplyDecision {
  if (inbound.existing_reply_id) return 'deliver-existing';
  if (!inbound.bot_may_answer)
    return inbound.status !== 'bot' ? 'skipped-not-bot' : 'skipped-opted-out';
  if (!inbound.channel_id) return 'skipped-no-channel';
  if (inbound.bot_replies_last_minute >= botRepliesPerMinute) return 'skipped-loop-guard';
  return 'answer';
}
