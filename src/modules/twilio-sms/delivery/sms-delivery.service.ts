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
import { DomainError } from '../../../common/errors/domain-error';
import { MetricsService } from '../../../common/metrics/metrics.service';
import { JobInfo } from '../../../queue/job-queue';
import {
  ChannelHealthService,
  SmsChannelStore,
  SmsChannelTokens,
  SmsWebhookUrls,
} from '../../channels';
import { MessageStore } from '../../inbox';
import { optOutSender, SmsOptOutStore } from '../../opt-outs';
import { TwilioApiError } from '../api/twilio-api.error';
import { OutboundSms, TwilioMessageRef, TwilioRestAdapter } from '../api/twilio-rest.adapter';
import { SmsErrorContext, SmsErrorReporter } from '../sms-error-reporter';
import { DELIVERY_RANK, FROM_NOT_ON_ACCOUNT, RECIPIENT_OPTED_OUT } from '../../../common/sms';

/** Twilio holds two messages for one row of ours: the customer got the text twice. */
export class DuplicateSendError extends DomainError {
  constructor(keptSid: string, extraSid: string) {
    super(
      'SMS_SENT_TWICE',
      `Twilio created a second message (${extraSid}) for a reply already sent as ${keptSid}; kept ${keptSid}`,
    );
  }
}

@Injectable()
export class SmsDeliveryService {
  private readonly logger = new Logger(SmsDeliveryService.name);

  constructor(
    private readonly messages: MessageStore,
    private readonly channels: SmsChannelStore,
    private readonly urls: SmsWebhookUrls,
    private readonly twilio: TwilioRestAdapter,
    private readonly reporter: SmsErrorReporter,
    private readonly optOuts: SmsOptOutStore,
    private readonly metrics: MetricsService,
    private readonly tokens: SmsChannelTokens,
    private readonly health: ChannelHealthService,
  ) {}

  async deliver(messageId: string, job: JobInfo): Promise<void> {
    const message = await this.messages.loadForDelivery(messageId);
    if (!message || message.twilio_sid || message.delivery_rank >= DELIVERY_RANK.failed) return;
    const context = { chatbotId: message.chatbot_id, channelId: message.channel_id, messageId };
    if (message.opted_out) {
      return this.messages.markFailed(messageId, null, 'Not sent: the customer opted out (STOP)');
    }
    if (!message.channel_id)
      return this.messages.markFailed(
        messageId,
        null,
        'Not sent: the SMS channel was disconnected',
      );
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
      statusCallback: this.urls.statusCallbackFor(messageId),
    };
    try {
      const measuredAt = performance.now();
      const sinceAttemptMs = message.send_attempted_at
        ? await this.messages.millisSinceAttempt(messageId)
        : null;
      if (sinceAttemptMs !== null) {
        const existing = await this.tokens.call(channel, (credentials) =>
          this.twilio.findSentMessage(
            credentials,
            sms,
            { ms: sinceAttemptMs, measuredAt },
            (sids) => this.messages.sidsTakenByOthers(sids, messageId),
          ),
        );
        if (existing) return await this.markSent(messageId, channel.id, existing, context);
      }
      await this.messages.markAttempted(messageId);
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
        await this.messages.clearAttempt(messageId);
      }
      if (error.isAuthenticationFailure) {
        // The token was rotated or revoked in Twilio: keep the reply for when the customer gives
        // us the new one (HeldReplies queues it again once they work), and say so at once.
        await this.messages.holdForCredentials(
          messageId,
          'Waiting: Twilio rejects the stored Auth Token; it is sent once the channel has a valid one',
        );
        await this.health.noteCredentialsRejected({
          id: channel.id,
          chatbotId: message.chatbot_id,
        });
        return;
      }
      if (error.twilioCode !== null && FROM_NOT_ON_ACCOUNT.includes(error.twilioCode)) {
        await this.health.noteNumberGone({ id: channel.id, chatbotId: message.chatbot_id });
      }
      const lastAttempt = job.retryCount >= job.retryLimit;
      if (error.transient && !lastAttempt) throw error;
      const reason = error.transient
        ? `${error.reason} (gave up after ${job.retryCount + 1} attempts)`
        : error.reason;
      // Twilio knows the person opted out of this sender (perhaps before we were connected):
      // remember it, so nobody tries again until they send START.
      if (error.twilioCode === RECIPIENT_OPTED_OUT) {
        await this.optOuts.record(optOutSender(channel), message.customer_number, 'twilio-21610');
      }
      await this.messages.markFailed(messageId, error.twilioCode, reason);
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
    const stored = await this.messages.markSent({
      messageId,
      sid: sent.sid,
      status: sent.status,
      channelId,
    });
    if (stored) return;
    // Read after the update settled: a concurrent run's SID committed meanwhile is seen here.
    const kept = await this.messages.sidOf(messageId);
    if (kept) this.reporter.capture(new DuplicateSendError(kept, sent.sid), context, 'warning');
  }
}
