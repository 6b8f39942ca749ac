/**
 * What the channel resource tells the SMS flow without knowing it: a channel's credentials work
 * (again) — after a reconnect, a promoted new Auth Token, or a check Twilio accepted — so whoever
 * held work for rejected credentials (twilio-sms: the replies held on a 401) sends it now.
 * Listeners are awaited in turn; one that fails is logged and the others still run.
 */
import { Injectable, Logger } from '@nestjs/common';

type Listener = (channelId: string) => Promise<unknown>;

@Injectable()
export class SmsChannelEvents {
  private readonly logger = new Logger(SmsChannelEvents.name);
  private readonly credentialsAcceptedListeners: Listener[] = [];

  onCredentialsAccepted(listener: Listener): void {
    this.credentialsAcceptedListeners.push(listener);
  }

  async credentialsAccepted(channelId: string): Promise<void> {
    for (const listener of this.credentialsAcceptedListeners) {
      await listener(channelId).catch((error: unknown) => {
        this.logger.warn({ err: error, channelId }, 'credentials-accepted listener failed');
      });
    }
  }
}
