/**
 * Sends one stored outbound message through the channel's Twilio account, exactly once:
 * - the message row exists before the send, and Twilio's SID is stored as soon as Twilio answers;
 * - `send_attempted_at` is set before calling Twilio. If a later attempt finds it set and no SID
 *   (timeout, reset, crash), it first asks Twilio whether the message was created, and adopts it;
 * - failures that certainly reached no Twilio state (connection refused, 5xx, 429) clear the mark
 *   and are retried by the job with backoff; permanent Twilio errors fail at once with the reason.
 */
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PreparedStatement, PreparedStatements } from '../../../database/prepared-statements';
import { JobInfo } from '../../../queue/job-queue';
import { SmsChannelsService } from '../../channels/sms-channels.service';
import { DELIVERY_RANK } from '../../inbox/message.entity';
import {
  channelOptOutSenderSql,
  optedOutSql,
  optOutSender,
  SmsOptOutStore,
} from '../../opt-outs/sms-opt-out.store';
import { TwilioApiError } from '../api/twilio-api.error';
import { OutboundSms, TwilioMessageRef, TwilioRestAdapter } from '../api/twilio-rest.adapter';
import { SmsErrorReporter } from '../sms-error-reporter';
import { RECIPIENT_OPTED_OUT } from '../sms-text';

interface OutboundRow {
  id: string;
  body: string;
  twilio_sid: string | null;
  delivery_rank: number;
  send_attempted_at: Date | null;
  customer_number: string;
  /** Opted out of the sender we would send from (false without a channel). */
  opted_out: boolean;
  channel_id: string | null;
  chatbot_id: string;
  /** The channel's row, when the conversation still has one. */
  account_sid: string | null;
  phone_number: string | null;
  auth_token_encrypted: string | null;
}

const LOAD_OUTBOUND: PreparedStatement = {
  name: 'sms-delivery-load',
  text: `SELECT m.id, m.body, m.twilio_sid, m.delivery_rank, m.send_attempted_at, c.customer_number,
      ${optedOutSql(channelOptOutSenderSql('s'), 'c.customer_number')} AS opted_out,
      s.id AS channel_id, c.chatbot_id,
      s.account_sid, s.phone_number, s.auth_token_encrypted
    FROM messages m JOIN conversations c ON c.id = m.conversation_id
      LEFT JOIN sms_channels s ON s.id = c.channel_id
    WHERE m.id = $1 AND m.direction = 'outbound'`,
};

const MARK_ATTEMPTED: PreparedStatement = {
  name: 'sms-delivery-attempted',
  text: `UPDATE messages SET send_attempted_at = now(), delivery_status = 'sending', delivery_rank = $2, updated_at = now()
    WHERE id = $1 AND twilio_sid IS NULL`,
};

/**
 * Stores Twilio's SID, keeping the furthest status (a status callback may have come first), and
 * the channel's last outbound time, at most once a second (as the webhook does for inbound).
 */
const MARK_SENT: PreparedStatement = {
  name: 'sms-delivery-sent',
  text: `WITH sent AS (
      UPDATE messages SET twilio_sid = $2,
        delivery_status = CASE WHEN delivery_rank < $4 THEN $3 ELSE delivery_status END,
        delivery_rank = GREATEST(delivery_rank, $4), updated_at = now()
      WHERE id = $1
    )
    UPDATE sms_channels SET last_outbound_at = now()
    WHERE id = $5 AND (last_outbound_at IS NULL OR last_outbound_at < now() - interval '1 second')`,
};

@Injectable()
export class SmsDeliveryService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly statements: PreparedStatements,
    private readonly channels: SmsChannelsService,
    private readonly twilio: TwilioRestAdapter,
    private readonly reporter: SmsErrorReporter,
    private readonly optOuts: SmsOptOutStore,
  ) {}

  async deliver(messageId: string, job: JobInfo): Promise<void> {
    const [message] = await this.statements.query<OutboundRow>(LOAD_OUTBOUND, [messageId]);
    if (!message || message.twilio_sid || message.delivery_rank >= DELIVERY_RANK.failed) return;
    const context = { chatbotId: message.chatbot_id, channelId: message.channel_id, messageId };
    if (message.opted_out) {
      return this.markFailed(messageId, null, 'Not sent: the customer opted out (STOP)');
    }
    if (!message.channel_id)
      return this.markFailed(messageId, null, 'Not sent: the SMS channel was disconnected');
    const channel = {
      id: message.channel_id,
      accountSid: message.account_sid as string,
      phoneNumber: message.phone_number as string,
      authTokenEncrypted: message.auth_token_encrypted as string,
    };

    const credentials = this.channels.credentials(channel);
    const sms: OutboundSms = {
      to: message.customer_number,
      from: channel.phoneNumber,
      body: message.body,
      statusCallback: this.channels.statusCallbackUrl,
    };
    try {
      if (message.send_attempted_at) {
        const existing = await this.twilio.findSentMessage(
          credentials,
          sms,
          new Date(message.send_attempted_at),
          async (sids) =>
            new Set(
              (
                await this.dataSource.query(
                  `SELECT twilio_sid FROM messages WHERE twilio_sid = ANY($1) AND id <> $2`,
                  [sids, messageId],
                )
              ).map((row: { twilio_sid: string }) => row.twilio_sid),
            ),
        );
        if (existing) return await this.markSent(messageId, channel.id, existing);
      }
      await this.statements.query(MARK_ATTEMPTED, [messageId, DELIVERY_RANK.sending]);
      await this.markSent(messageId, channel.id, await this.twilio.createMessage(credentials, sms));
    } catch (error) {
      if (!(error instanceof TwilioApiError)) throw error;
      if (!error.ambiguous) {
        // Twilio certainly created nothing: the next attempt may send without looking first.
        await this.dataSource.query(
          `UPDATE messages SET send_attempted_at = NULL WHERE id = $1 AND twilio_sid IS NULL`,
          [messageId],
        );
      }
      const lastAttempt = job.retryCount >= job.retryLimit;
      if (error.transient && !lastAttempt) throw error;
      const reason = error.transient
        ? `${error.reason} (gave up after ${job.retryCount + 1} attempts)`
        : error.reason;
      // Twilio knows the person opted out of this sender (perhaps before we were connected):
      // remember it, so nobody tries again until they send START.
      if (error.code === RECIPIENT_OPTED_OUT) {
        await this.optOuts.record(optOutSender(channel), message.customer_number, 'twilio-21610');
      }
      await this.markFailed(messageId, error.code, reason);
      await this.channels.recordError(channel.id, reason);
      this.reporter.capture(error, context);
    }
  }

  private async markSent(
    messageId: string,
    channelId: string,
    sent: TwilioMessageRef,
  ): Promise<void> {
    const rank = DELIVERY_RANK[sent.status] ?? DELIVERY_RANK.queued;
    await this.statements.query(MARK_SENT, [messageId, sent.sid, sent.status, rank, channelId]);
  }

  private async markFailed(messageId: string, code: number | null, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE messages SET delivery_status = 'failed', delivery_rank = $2, error_code = $3, error_message = $4, updated_at = now()
       WHERE id = $1 AND twilio_sid IS NULL`,
      [messageId, DELIVERY_RANK.failed, code, reason],
    );
  }
}
