/**
 * Sends one stored outbound message through the channel's Twilio account, exactly once:
 * - the message row exists before the send, and Twilio's SID is stored as soon as Twilio answers
 *   (or as soon as a status callback names it: its StatusCallback URL carries our message id);
 * - `send_attempted_at` is set before calling Twilio, and kept from the first attempt that may
 *   have reached Twilio. If a later attempt finds it set and no SID (timeout, reset, crash), it
 *   first asks Twilio whether the message was created since, and adopts it;
 * - failures that certainly reached no Twilio state (connection refused, 5xx, 429) clear the mark
 *   and are retried by the job with backoff; permanent Twilio errors fail at once with the reason;
 * - a stored SID is never replaced: if Twilio created a second message for the same row anyway,
 *   the first stays and the second is reported.
 */
import { Injectable, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { MetricsService } from '../../../common/metrics/metrics.service';
import { PreparedStatement, PreparedStatements } from '../../../database/prepared-statements';
import { JobInfo } from '../../../queue/job-queue';
import {
  ChannelHealthService,
  HELD_FOR_CREDENTIALS,
  SmsChannelsService,
  SmsChannelTokens,
} from '../../channels';
import { channelOptOutSenderSql, optedOutSql, optOutSender, SmsOptOutStore } from '../../opt-outs';
import { TwilioApiError } from '../api/twilio-api.error';
import { OutboundSms, TwilioMessageRef, TwilioRestAdapter } from '../api/twilio-rest.adapter';
import { SmsErrorContext, SmsErrorReporter } from '../sms-error-reporter';
import { DELIVERY_RANK, RECIPIENT_OPTED_OUT } from '../../../common/sms';

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
  messaging_service_sid: string | null;
  pending_auth_token_encrypted: string | null;
}

const LOAD_OUTBOUND: PreparedStatement = {
  name: 'sms-delivery-load',
  text: `SELECT m.id, m.body, m.twilio_sid, m.delivery_rank, m.send_attempted_at, c.customer_number,
      ${optedOutSql(channelOptOutSenderSql('s'), 'c.customer_number')} AS opted_out,
      s.id AS channel_id, c.chatbot_id,
      s.account_sid, s.phone_number, s.auth_token_encrypted, s.messaging_service_sid,
      s.pending_auth_token_encrypted
    FROM messages m JOIN conversations c ON c.id = m.conversation_id
      LEFT JOIN sms_channels s ON s.id = c.channel_id
    WHERE m.id = $1 AND m.direction = 'outbound'`,
};

/**
 * The first attempt that may have reached Twilio is the one a later lookup must reach back to: an
 * earlier mark stays until a failure proves Twilio created nothing.
 */
const MARK_ATTEMPTED: PreparedStatement = {
  name: 'sms-delivery-attempted',
  text: `UPDATE messages SET send_attempted_at = COALESCE(send_attempted_at, now()),
      delivery_status = 'sending', delivery_rank = GREATEST(delivery_rank, $2), updated_at = now()
    WHERE id = $1 AND twilio_sid IS NULL`,
};

/** Time since that attempt on the database's clock, the one that set it. */
const SINCE_ATTEMPT = `SELECT (extract(epoch FROM now() - send_attempted_at) * 1000)::float8 AS ms
  FROM messages WHERE id = $1 AND send_attempted_at IS NOT NULL`;

/**
 * Stores Twilio's SID unless the row already names another one (never overwritten), keeping the
 * furthest status (a status callback may have come first), and the channel's last outbound time,
 * at most once a second (as the webhook does for inbound). Answers whether the row holds our SID.
 */
const MARK_SENT: PreparedStatement = {
  name: 'sms-delivery-sent',
  text: `WITH sent AS (
      UPDATE messages SET twilio_sid = $2,
        delivery_status = CASE WHEN delivery_rank < $4 THEN $3 ELSE delivery_status END,
        delivery_rank = GREATEST(delivery_rank, $4), updated_at = now()
      WHERE id = $1 AND (twilio_sid IS NULL OR twilio_sid = $2)
      RETURNING id
    ),
    channel AS (
      UPDATE sms_channels SET last_outbound_at = now()
      WHERE id = $5 AND (last_outbound_at IS NULL OR last_outbound_at < now() - interval '1 second')
    )
    SELECT EXISTS (SELECT 1 FROM sent) AS stored`,
};

/** Twilio's "From is not a number of this account" (21606) and "invalid From" (21212). */
const FROM_NOT_ON_ACCOUNT = [21606, 21212];

/** Twilio holds two messages for one row of ours: the customer got the text twice. */
export class DuplicateSendError extends Error {
  constructor(keptSid: string, extraSid: string) {
    super(
      `Twilio created a second message (${extraSid}) for a reply already sent as ${keptSid}; kept ${keptSid}`,
    );
    this.name = 'DuplicateSendError';
  }
}

@Injectable()
export class SmsDeliveryService {
  private readonly logger = new Logger(SmsDeliveryService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly statements: PreparedStatements,
    private readonly channels: SmsChannelsService,
    private readonly twilio: TwilioRestAdapter,
    private readonly reporter: SmsErrorReporter,
    private readonly optOuts: SmsOptOutStore,
    private readonly metrics: MetricsService,
    private readonly tokens: SmsChannelTokens,
    private readonly health: ChannelHealthService,
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
      messagingServiceSid: message.messaging_service_sid,
      pendingAuthTokenEncrypted: message.pending_auth_token_encrypted,
    };

    const sms: OutboundSms = {
      to: message.customer_number,
      from: channel.phoneNumber,
      messagingServiceSid: channel.messagingServiceSid,
      body: message.body,
      statusCallback: this.channels.statusCallbackUrlFor(messageId),
    };
    try {
      const measuredAt = performance.now();
      const [attempt] = message.send_attempted_at
        ? await this.dataSource.query<{ ms: number }[]>(SINCE_ATTEMPT, [messageId])
        : [];
      if (attempt) {
        const existing = await this.tokens.call(channel, (credentials) =>
          this.twilio.findSentMessage(
            credentials,
            sms,
            { ms: attempt.ms, measuredAt },
            async (sids) =>
              new Set(
                (
                  await this.dataSource.query(
                    `SELECT twilio_sid FROM messages WHERE twilio_sid = ANY($1) AND id <> $2`,
                    [sids, messageId],
                  )
                ).map((row: { twilio_sid: string }) => row.twilio_sid),
              ),
          ),
        );
        if (existing) return await this.markSent(messageId, channel.id, existing, context);
      }
      await this.statements.query(MARK_ATTEMPTED, [messageId, DELIVERY_RANK.sending]);
      const created = await this.tokens.call(channel, (credentials) =>
        this.twilio.createMessage(credentials, sms),
      );
      this.metrics.messageAccepted(job);
      this.logger.log({ messageId, twilioSid: created.sid }, 'SMS accepted by Twilio');
      await this.markSent(messageId, channel.id, created, context);
    } catch (error) {
      if (!(error instanceof TwilioApiError)) throw error;
      if (!error.ambiguous) {
        // Twilio certainly created nothing: the next attempt may send without looking first.
        await this.dataSource.query(
          `UPDATE messages SET send_attempted_at = NULL WHERE id = $1 AND twilio_sid IS NULL`,
          [messageId],
        );
      }
      if (error.isAuthenticationFailure) {
        // The token was rotated or revoked in Twilio: keep the reply for when the customer gives
        // us the new one (SmsChannelTokens sends held replies again), and say so at once.
        await this.statements.query(HELD_FOR_CREDENTIALS, [
          messageId,
          DELIVERY_RANK.pending,
          'Waiting: Twilio rejects the stored Auth Token; it is sent once the channel has a valid one',
        ]);
        await this.health.noteCredentialsRejected({
          id: channel.id,
          chatbotId: message.chatbot_id,
        });
        return;
      }
      if (error.code !== null && FROM_NOT_ON_ACCOUNT.includes(error.code)) {
        await this.health.noteNumberGone({ id: channel.id, chatbotId: message.chatbot_id });
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
    context: SmsErrorContext,
  ): Promise<void> {
    const rank = DELIVERY_RANK[sent.status] ?? DELIVERY_RANK.queued;
    const [{ stored }] = await this.statements.query<{ stored: boolean }>(MARK_SENT, [
      messageId,
      sent.sid,
      sent.status,
      rank,
      channelId,
    ]);
    if (stored) return;
    // Read after the update settled: a concurrent run's SID committed meanwhile is seen here.
    const [row] = await this.dataSource.query<{ twilio_sid: string | null }[]>(
      'SELECT twilio_sid FROM messages WHERE id = $1',
      [messageId],
    );
    if (row?.twilio_sid) {
      this.reporter.capture(new DuplicateSendError(row.twilio_sid, sent.sid), context, 'warning');
    }
  }

  private async markFailed(messageId: string, code: number | null, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE messages SET delivery_status = 'failed', delivery_rank = $2, error_code = $3, error_message = $4, updated_at = now()
       WHERE id = $1 AND twilio_sid IS NULL`,
      [messageId, DELIVERY_RANK.failed, code, reason],
    );
  }
}
