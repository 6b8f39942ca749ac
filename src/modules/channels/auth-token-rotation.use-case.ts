/**
 * The customer rotates their Auth Token with Twilio's Secondary → Promote flow and gives us the
 * new token in between: it is probed against Twilio first, then stored encrypted beside the
 * current one, and both are accepted until the new one takes over (SmsChannelTokens decides when:
 * the first webhook it signs, or the first REST call the old one fails). Cancelling forgets it.
 */
import { Injectable, Logger } from '@nestjs/common';
import { Errors } from '../../common/errors/errors';
import { Secret } from '../../common/secret';
import { ChatbotsService } from '../agent';
import { TwilioRestAdapter } from '../twilio-sms';
import { ChannelHealthService } from './channel-health.service';
import { SmsChannelTokens } from './sms-channel-tokens';
import { SmsChannel } from './sms-channel.entity';
import { SmsChannelStore } from './sms-channel.store';

@Injectable()
export class AuthTokenRotationUseCase {
  private readonly logger = new Logger(AuthTokenRotationUseCase.name);

  constructor(
    private readonly chatbots: ChatbotsService,
    private readonly store: SmsChannelStore,
    private readonly tokens: SmsChannelTokens,
    private readonly health: ChannelHealthService,
    private readonly twilio: TwilioRestAdapter,
  ) {}

  /** Stores the new token beside the current one; answers the channel as it is after a check. */
  async start(organizationId: string, chatbotId: string, authToken: string): Promise<SmsChannel> {
    const channel = await this.connectedChannel(organizationId, chatbotId);
    // The token we already use: nothing to rotate (it would wait beside itself forever).
    if (this.tokens.current(channel).authToken.reveal() === authToken) return channel;
    const token = new Secret(authToken);
    await this.twilio.fetchAccount({ accountSid: channel.accountSid, authToken: token });
    if (!(await this.tokens.storePending(channel, token))) throw Errors.notFound('SMS channel');
    this.logger.log(
      { channelId: channel.id, chatbotId },
      'new Auth Token stored beside the current one',
    );
    // A check right away: if Twilio already rejects the old token (promoted before telling us),
    // the new one takes over now, and the replies held meanwhile go out.
    const stored = await this.connectedChannel(organizationId, chatbotId);
    await this.health.check(stored).catch((error: unknown) => {
      this.logger.warn({ err: error, channelId: channel.id }, 'channel health check failed');
    });
    return this.connectedChannel(organizationId, chatbotId);
  }

  async cancel(organizationId: string, chatbotId: string): Promise<void> {
    const channel = await this.connectedChannel(organizationId, chatbotId);
    if (!(await this.tokens.cancelPending(channel))) {
      throw Errors.noPendingAuthToken();
    }
    this.logger.log({ channelId: channel.id, chatbotId }, 'pending Auth Token cancelled');
  }

  private async connectedChannel(organizationId: string, chatbotId: string): Promise<SmsChannel> {
    await this.chatbots.get(organizationId, chatbotId);
    const channel = await this.store.findForChatbot(organizationId, chatbotId);
    if (!channel) throw Errors.notFound('SMS channel');
    return channel;
  }
}
