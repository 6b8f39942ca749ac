/**
 * Replies held because Twilio rejected the channel's credentials (SmsDeliveryService marks them
 * pending with error 20003) go out as soon as the channel's credentials work again: after a
 * reconnect, a promoted new Auth Token, or a health check Twilio accepted (SmsChannelEvents).
 */
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { JobQueue } from '../../../queue/job-queue';
import { QUEUES } from '../../../queue/queue-names';
import { SmsChannelEvents } from '../../channels';
import { MessageStore } from '../../inbox';

@Injectable()
export class HeldReplies implements OnModuleInit {
  private readonly logger = new Logger(HeldReplies.name);

  constructor(
    private readonly events: SmsChannelEvents,
    private readonly messages: MessageStore,
    private readonly queue: JobQueue,
  ) {}

  onModuleInit(): void {
    this.events.onCredentialsAccepted((channelId) => this.release(channelId));
  }

  /** Queues the channel's held replies for sending again; answers how many. */
  async release(channelId: string): Promise<number> {
    const queued = await this.messages.queueHeldReplies(channelId);
    if (queued > 0) {
      this.logger.log({ channelId, queued }, 'replies held for rejected credentials queued again');
      this.queue.nudge(QUEUES.smsSend);
    }
    return queued;
  }
}
