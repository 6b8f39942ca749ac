/**
 * Repair: points the number's incoming messages at our webhook again (after the customer or
 * another tool re-pointed it) where Twilio reads them — the number's SmsUrl, or its Messaging
 * Service's inbound URL when the service does not defer to its numbers (a service that sends
 * other numbers' messages elsewhere is not taken over: 409 MESSAGING_SERVICE_IN_USE, as at
 * connect) — then checks the channel afresh. A number no longer on the account
 * cannot be repaired here (409 TWILIO_NUMBER_GONE: connect the number again, or another one).
 */
import { Injectable, Logger } from '@nestjs/common';
import { Errors } from '../../common/errors/errors';
import { RESOURCE_NOT_FOUND } from '../../common/sms';
import { ChatbotsService } from '../agent';
import { TwilioApiError, TwilioRestAdapter } from '../twilio-sms';
import { ChannelHealthService } from './channel-health.service';
import { assertMayConfigure, inboundWebhookOf } from './inbound-route';
import { SmsChannelTokens } from './sms-channel-tokens';
import { SmsChannel } from './sms-channel.entity';
import { SmsChannelStore } from './sms-channel.store';
import { SmsWebhookUrls } from './sms-webhook-urls';

@Injectable()
export class RepairSmsWebhookUseCase {
  private readonly logger = new Logger(RepairSmsWebhookUseCase.name);

  constructor(
    private readonly store: SmsChannelStore,
    private readonly chatbots: ChatbotsService,
    private readonly urls: SmsWebhookUrls,
    private readonly tokens: SmsChannelTokens,
    private readonly health: ChannelHealthService,
    private readonly twilio: TwilioRestAdapter,
  ) {}

  async execute(organizationId: string, chatbotId: string): Promise<SmsChannel> {
    await this.chatbots.get(organizationId, chatbotId);
    const channel = await this.store.findForChatbot(organizationId, chatbotId);
    if (!channel) throw Errors.notFound('SMS channel');
    let on: 'number' | 'service';
    try {
      on = await this.pointInboundAtUs(channel);
    } catch (error) {
      if (!(error instanceof TwilioApiError)) throw error;
      if (error.twilioCode === RESOURCE_NOT_FOUND) {
        await this.health.noteNumberGone(channel);
        throw Errors.twilioNumberGone(channel.phoneNumber, error);
      }
      if (error.isAuthenticationFailure) await this.health.noteCredentialsRejected(channel);
      throw error;
    }
    // Ours now, so disconnect clears it again.
    await this.store.markInboundSetByUs(channel.id, on);
    this.logger.log({ channelId: channel.id, chatbotId }, "number's webhook pointed at us again");
    const current = await this.store.findForChatbot(organizationId, chatbotId);
    if (!current) throw Errors.notFound('SMS channel');
    await this.health.check(current);
    return (await this.store.findForChatbot(organizationId, chatbotId)) ?? current;
  }

  /** Sets the inbound URL Twilio reads for the number (inboundWebhookOf); answers where. */
  private async pointInboundAtUs(channel: SmsChannel): Promise<'number' | 'service'> {
    const webhookUrl = this.urls.inbound;
    return this.tokens.call(channel, async (credentials) => {
      const number = await this.twilio.fetchIncomingNumber(credentials, channel.phoneNumberSid);
      const serviceSid = channel.messagingServiceSid;
      const pool = serviceSid
        ? await this.twilio.fetchMessagingService(credentials, serviceSid)
        : null;
      const holding = pool?.phoneNumberSids.includes(number.sid) ? pool : null;
      const inbound = inboundWebhookOf(number, holding);
      assertMayConfigure(inbound, holding, number, webhookUrl, true);
      if (inbound.on === 'service' && holding) {
        await this.twilio.updateServiceInboundUrl(
          credentials,
          holding.service.sid,
          webhookUrl,
          'POST',
        );
      } else {
        await this.twilio.updateSmsUrl(credentials, number.sid, webhookUrl);
      }
      return inbound.on;
    });
  }
}
