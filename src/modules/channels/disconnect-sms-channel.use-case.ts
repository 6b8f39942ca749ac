/**
 * Disconnect: the row (and with it the only copy of the encrypted token) is deleted before we
 * answer. If we had pointed the number's webhook at us, we clear it in Twilio afterwards, best
 * effort: a Twilio failure is logged and never blocks the disconnect.
 */
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { notFound } from '../../common/errors/domain-error';
import { ChatbotsService } from '../agent/chatbots.service';
import { TwilioRestAdapter } from '../twilio-sms/api/twilio-rest.adapter';
import { SmsChannel } from './sms-channel.entity';
import { SmsChannelsService } from './sms-channels.service';

@Injectable()
export class DisconnectSmsChannelUseCase {
  private readonly logger = new Logger(DisconnectSmsChannelUseCase.name);

  constructor(
    @InjectRepository(SmsChannel) private readonly repository: Repository<SmsChannel>,
    private readonly chatbots: ChatbotsService,
    private readonly channels: SmsChannelsService,
    private readonly twilio: TwilioRestAdapter,
  ) {}

  async execute(organizationId: string, chatbotId: string): Promise<void> {
    await this.chatbots.get(organizationId, chatbotId);
    const channel = await this.channels.findForChatbot(organizationId, chatbotId);
    if (!channel) throw notFound('SMS channel');
    const credentials = channel.webhookConfiguredByUs ? this.channels.credentials(channel) : null;
    await this.repository.delete({ id: channel.id });
    this.channels.forget(channel);
    if (!credentials) return;
    try {
      const number = await this.twilio.fetchIncomingNumber(credentials, channel.phoneNumberSid);
      // Only undo our own setting: the customer may have pointed the number elsewhere since.
      if (number.smsUrl === this.channels.webhookUrl) {
        await this.twilio.updateSmsUrl(credentials, channel.phoneNumberSid, '');
      }
    } catch (error) {
      this.logger.warn(
        { err: error, channelId: channel.id },
        'could not clear the SmsUrl in Twilio after disconnect',
      );
    }
  }
}
