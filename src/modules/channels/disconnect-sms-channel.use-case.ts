/**
 * Disconnect: the row (and with it the only copy of the encrypted token) is deleted before we
 * answer, whatever else fails. If we had pointed the number's webhook at us, we clear it in Twilio
 * afterwards, best effort: a token that no longer decrypts (the encryption key changed) or a Twilio
 * failure is reported (log line and Sentry warning, never the token) and never blocks the
 * disconnect.
 */
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { notFound } from '../../common/errors/domain-error';
import { ChatbotsService } from '../agent/chatbots.service';
import { TwilioCredentials, TwilioRestAdapter } from '../twilio-sms/api/twilio-rest.adapter';
import { SmsErrorReporter } from '../twilio-sms/sms-error-reporter';
import { SmsChannel } from './sms-channel.entity';
import { SmsChannelsService } from './sms-channels.service';

/** Why the number may still point at us after a disconnect (support reads it in Sentry). */
export class SmsUrlNotClearedError extends Error {
  constructor(cause: unknown) {
    super(
      `Could not clear the number's SmsUrl in Twilio after disconnect: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = 'SmsUrlNotClearedError';
  }
}

@Injectable()
export class DisconnectSmsChannelUseCase {
  constructor(
    @InjectRepository(SmsChannel) private readonly repository: Repository<SmsChannel>,
    private readonly chatbots: ChatbotsService,
    private readonly channels: SmsChannelsService,
    private readonly twilio: TwilioRestAdapter,
    private readonly reporter: SmsErrorReporter,
  ) {}

  async execute(organizationId: string, chatbotId: string): Promise<void> {
    await this.chatbots.get(organizationId, chatbotId);
    const channel = await this.channels.findForChatbot(organizationId, chatbotId);
    if (!channel) throw notFound('SMS channel');
    let credentials: TwilioCredentials | null = null;
    let failure: unknown = null;
    if (channel.webhookConfiguredByUs) {
      try {
        credentials = this.channels.credentials(channel);
      } catch (error) {
        failure = error;
      }
    }
    await this.repository.delete({ id: channel.id });
    this.channels.forget(channel);
    if (credentials) {
      try {
        const number = await this.twilio.fetchIncomingNumber(credentials, channel.phoneNumberSid);
        // Only undo our own setting: the customer may have pointed the number elsewhere since.
        if (number.smsUrl === this.channels.webhookUrl) {
          await this.twilio.updateSmsUrl(credentials, channel.phoneNumberSid, '');
        }
      } catch (error) {
        failure = error;
      }
    }
    if (failure) {
      this.reporter.capture(
        new SmsUrlNotClearedError(failure),
        { chatbotId: channel.chatbotId, channelId: channel.id },
        'warning',
      );
    }
  }
}
