/**
 * The webhook's hot path: one statement that opens or finds the conversation, stores the
 * message (unique on MessageSid, so a retry or a concurrent duplicate stores once) and queues the
 * reply job. The agent is never awaited here; Twilio gets its 200 as soon as this commits.
 */
import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../../../common/errors/domain-error';
import { PreparedStatement, PreparedStatements } from '../../../database/prepared-statements';
import { insertJobsSql, JobQueue, JobTrace } from '../../../queue/job-queue';
import { QUEUES } from '../../../queue/queue-names';
import type { WebhookChannel } from '../../channels';
import { optedOutSql, optOutSender } from '../../opt-outs';
import {
  classifyKeyword,
  countSegments,
  DELIVERY_RANK,
  isReplyableSender,
  isStorableSender,
  MESSAGE_SID,
  messagePreview,
  SmsKeywordKind,
} from '../../../common/sms';

const MAX_STORED_BODY = 10_000;

/**
 * The channel row the caller verified the signature with is gone or changed (disconnect,
 * reconnect, key rotation): nothing was stored; verify against a fresh read and try again.
 */
export class StaleChannelError extends DomainError {
  constructor() {
    // Answered as such only if it happens twice in a row: Twilio shows a 503 as unavailable.
    super('SERVICE_UNAVAILABLE', 'The channel changed while the message was being stored');
  }
}

export interface InboundResult {
  stored: boolean;
  replyQueued: boolean;
  keyword: SmsKeywordKind | null;
}

const field = (params: Record<string, string | string[]>, name: string): string | undefined => {
  const value = params[name];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * One autocommit statement: the channel row the signature was checked with is still current, the
 * conversation is opened or found, the message stored (once per MessageSid), an opt-out keyword
 * recorded for (sender, customer) or an opt-in keyword clearing it, and the reply queued when the
 * conversation wants one and the customer has not opted out of this sender. All of it or nothing.
 */
const STORE_INBOUND: PreparedStatement = {
  name: 'store-inbound-sms',
  text: `WITH current_channel AS (
      SELECT id FROM sms_channels
      WHERE id = $3 AND phone_number = $15 AND auth_token_encrypted = $16
    ),
    conversation AS (
      INSERT INTO conversations
        (organization_id, chatbot_id, channel, channel_id, customer_number, sender, status, last_message_at, last_message_preview)
      SELECT $1, $2, 'sms', $3, $4, $17, 'bot', now(), $5
      FROM current_channel
      ON CONFLICT (chatbot_id, channel, customer_number) DO UPDATE SET
        last_message_at = now(),
        last_message_preview = EXCLUDED.last_message_preview,
        channel_id = EXCLUDED.channel_id,
        sender = EXCLUDED.sender
      RETURNING id, status
    ),
    -- At most once a second per channel: the row lock would otherwise queue every webhook of a
    -- busy number behind the previous one's commit.
    channel AS (
      UPDATE sms_channels SET last_inbound_at = now()
      WHERE id = $3 AND EXISTS (SELECT 1 FROM current_channel)
        AND (last_inbound_at IS NULL OR last_inbound_at < now() - interval '1 second')
    ),
    message AS (
      INSERT INTO messages
        (conversation_id, organization_id, direction, author, body, twilio_sid, delivery_status, delivery_rank, segments, encoding, media_dropped)
      SELECT conversation.id, $1, 'inbound', 'customer', $7, $8, 'received', $9, $10, $11, $12 FROM conversation
      ON CONFLICT (twilio_sid) DO NOTHING
      RETURNING id
    ),
    -- Only for a message stored now: a late retry of an old STOP must not undo a later START.
    opt_out AS (
      INSERT INTO sms_opt_outs (sender, customer_number, source)
      SELECT $17, $4, 'keyword' FROM message WHERE $6 = 'opt-out'
      ON CONFLICT (sender, customer_number) DO NOTHING
    ),
    opt_in AS (
      DELETE FROM sms_opt_outs
      WHERE sender = $17 AND customer_number = $4 AND $6 = 'opt-in' AND EXISTS (SELECT 1 FROM message)
    ),
    reply AS (
      SELECT jsonb_build_object('messageId', message.id, 'organizationId', $1::text,
          'requestId', $18::text, 'receivedAt', $19::float8) AS data,
        message.id::text AS singleton_key
      FROM message, conversation
      WHERE $13 AND conversation.status = 'bot' AND NOT ${optedOutSql('$17', '$4')}
    ),
    job AS (${insertJobsSql('reply', '$14')})
    SELECT EXISTS (SELECT 1 FROM current_channel) AS current,
      EXISTS (SELECT 1 FROM message) AS stored,
      EXISTS (SELECT 1 FROM job) AS queued`,
};

@Injectable()
export class ReceiveInboundSmsUseCase {
  private readonly logger = new Logger(ReceiveInboundSmsUseCase.name);

  constructor(
    private readonly statements: PreparedStatements,
    private readonly queue: JobQueue,
  ) {}

  async execute(
    channel: WebhookChannel,
    params: Record<string, string | string[]>,
    trace: JobTrace = {},
  ): Promise<InboundResult> {
    const messageSid = field(params, 'MessageSid') ?? '';
    const from = field(params, 'From') ?? '';
    // Any sender Twilio signed is stored (a short code, an alphanumeric sender ID, our own
    // number): refusing it would lose the message, Twilio does not send it again.
    if (!MESSAGE_SID.test(messageSid) || !isStorableSender(from)) {
      throw new DomainError('VALIDATION_FAILED', 'MessageSid and From are required', [
        {
          field: MESSAGE_SID.test(messageSid) ? 'From' : 'MessageSid',
          message: 'missing or malformed',
        },
      ]);
    }
    this.noteServiceMismatch(channel, field(params, 'MessagingServiceSid') || null);
    // PostgreSQL text cannot hold U+0000: drop it rather than lose the customer's message.
    const body = (field(params, 'Body') ?? '').replaceAll('\u0000', '').slice(0, MAX_STORED_BODY);
    // Attachments are never fetched: we only count what we drop.
    const mediaDropped = Math.min(
      Math.max(Number.parseInt(field(params, 'NumMedia') ?? '0', 10) || 0, 0),
      100,
    );
    const keyword = classifyKeyword(body, field(params, 'OptOutType'));
    const { encoding, segments } = countSegments(body);
    const preview = body.trim() ? messagePreview(body) : `[${mediaDropped} attachment(s) dropped]`;

    const replyable =
      keyword === null &&
      (body.trim() !== '' || mediaDropped > 0) &&
      isReplyableSender(from, channel.phoneNumber);
    const rows = await this.statements.query<{
      current: boolean;
      stored: boolean;
      queued: boolean;
    }>(STORE_INBOUND, [
      channel.organizationId,
      channel.chatbotId,
      channel.id,
      from,
      preview,
      keyword ?? '',
      body,
      messageSid,
      DELIVERY_RANK.received,
      segments,
      encoding,
      mediaDropped,
      replyable,
      QUEUES.smsReply,
      channel.phoneNumber,
      channel.authTokenEncrypted,
      optOutSender(channel),
      trace.requestId ?? null,
      trace.receivedAt ?? null,
    ]);
    if (!rows[0].current) throw new StaleChannelError();
    const result = { stored: rows[0].stored, replyQueued: rows[0].queued };
    if (result.replyQueued) this.queue.nudge(QUEUES.smsReply);
    return { ...result, keyword };
  }

  /**
   * The channel was found by AccountSid + To and the signature checked with its token: a
   * MessagingServiceSid that disagrees with the service stored at connect means the customer
   * moved the number into, out of or between services since. The message is still stored and
   * answered (dropping it would lose it: Twilio does not send it again); reconnecting picks the
   * new service up.
   */
  private noteServiceMismatch(channel: WebhookChannel, signedServiceSid: string | null): void {
    if (signedServiceSid === channel.messagingServiceSid) return;
    this.logger.warn(
      {
        channelId: channel.id,
        storedMessagingServiceSid: channel.messagingServiceSid,
        messagingServiceSid: signedServiceSid,
      },
      "inbound SMS names another Messaging Service than the channel's; reconnect the channel to follow the number",
    );
  }
}
