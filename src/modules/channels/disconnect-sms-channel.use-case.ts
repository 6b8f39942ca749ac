/**
 * Disconnect: the row (and with it the only copy of the encrypted token) is deleted before we
 * answer, whatever else fails. If we had pointed the inbound URL at us (the number's SmsUrl or its
 * Messaging Service's InboundRequestUrl), we put back what was there before in Twilio afterwards,
 * if it still points at us (and, for a service, no other channel of ours still needs it), best
 * effort: a token that no longer decrypts (the encryption key changed) or a Twilio
 * failure is reported (log line and Sentry warning, never the token) and never blocks the
 * disconnect.
 */
import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error';
import { Errors } from '../../common/errors/errors';
import { ChatbotsService } from '../agent';
import { TwilioCredentials, TwilioRestAdapter, SmsErrorReporter } from '../twilio-sms';
import { InboundWebhookOn, SmsChannel } from './sms-channel.entity';
import { SmsChannelTokens } from './sms-channel-tokens';
import { SmsChannelStore } from './sms-channel.store';
import { SmsWebhookUrls } from './sms-webhook-urls';

/** Why the number (or its service) may still point at us after a disconnect (support reads it in Sentry). */
export class SmsUrlNotClearedError extends DomainError {
  constructor(cause: unknown, on: InboundWebhookOn = 'number') {
    const what = on === 'service' ? "Messaging Service's inbound URL" : "number's SmsUrl";
    super(
      'INBOUND_URL_NOT_RESTORED',
      `Could not clear the ${what} in Twilio after disconnect: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}

@Injectable()
export class DisconnectSmsChannelUseCase {
  constructor(
    private readonly store: SmsChannelStore,
    private readonly chatbots: ChatbotsService,
    private readonly tokens: SmsChannelTokens,
    private readonly urls: SmsWebhookUrls,
    private readonly twilio: TwilioRestAdapter,
    private readonly reporter: SmsErrorReporter,
  ) {}

  async execute(organizationId: string, chatbotId: string): Promise<void> {
    await this.chatbots.get(organizationId, chatbotId);
    const channel = await this.store.findForChatbot(organizationId, chatbotId);
    if (!channel) throw Errors.notFound('SMS channel');
    let credentials: TwilioCredentials | null = null;
    let failure: unknown = null;
    if (channel.webhookConfiguredByUs) {
      try {
        credentials = this.tokens.current(channel);
      } catch (error) {
        failure = error;
      }
    }
    await this.store.delete(channel.id);
    this.tokens.forget(channel);
    const on = channel.webhookConfiguredOn ?? 'number';
    if (credentials) {
      try {
        await this.restoreInboundUrl(credentials, channel, on);
      } catch (error) {
        failure = error;
      }
    }
    if (failure) {
      this.reporter.capture(
        new SmsUrlNotClearedError(failure, on),
        { chatbotId: channel.chatbotId, channelId: channel.id },
        'warning',
      );
    }
  }

  /** Only undoes our own setting: the customer may have pointed it elsewhere since. */
  private async restoreInboundUrl(
    credentials: TwilioCredentials,
    channel: SmsChannel,
    on: InboundWebhookOn,
  ): Promise<void> {
    const webhookUrl = this.urls.inbound;
    const url = channel.webhookPreviousUrl ?? '';
    const method = channel.webhookPreviousMethod ?? 'POST';
    if (on === 'number') {
      const number = await this.twilio.fetchIncomingNumber(credentials, channel.phoneNumberSid);
      if (number.smsUrl === webhookUrl) {
        await this.twilio.updateSmsUrl(credentials, channel.phoneNumberSid, url, method);
      }
      return;
    }
    const serviceSid = channel.messagingServiceSid;
    if (!serviceSid || (await this.store.isMessagingServiceConnected(serviceSid))) return;
    const pool = await this.twilio.fetchMessagingService(credentials, serviceSid);
    if (pool?.service.inboundRequestUrl === webhookUrl) {
      await this.twilio.updateServiceInboundUrl(credentials, serviceSid, url, method);
    }
  }
}
