/**
 * A person in the inbox answers a customer by SMS. One transaction stores the outbound message,
 * moves the conversation to `human` (a person replying takes it over, so the bot stays silent
 * until someone releases it) and enqueues the `sms-send` job; the delivery worker then sends it
 * from the channel's number and records Twilio's verdict on the message.
 */
import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error';
import { Errors } from '../../common/errors/errors';
import { countSegments, isReplyableSender, messagePreview } from '../../common/sms';
import { Transactions } from '../../database/transactions';
import { JobQueue } from '../../queue/job-queue';
import { QUEUES } from '../../queue/queue-names';
import { SmsChannel, SmsChannelStore } from '../channels';
import { optOutSender, SmsOptOutStore } from '../opt-outs';
import { Conversation } from './conversation.entity';
import { ConversationStore } from './conversation.store';
import { MessageResponse } from './dto/message.dto';
import { MessageStore } from './message.store';

/**
 * Whether a person may text this customer from this conversation's channel (null: yes): the
 * number the customer texted is still connected, the customer is a number we can text from it,
 * and they have not opted out of it.
 */
export function agentReplyRefusal(
  conversation: Pick<Conversation, 'customerNumber'>,
  channel: Pick<SmsChannel, 'phoneNumber'> | null,
  optedOut: boolean,
): DomainError | null {
  if (!channel) return Errors.channelNotConnected();
  if (!isReplyableSender(conversation.customerNumber, channel.phoneNumber))
    return Errors.contactNotReplyable();
  if (optedOut) return Errors.contactOptedOut();
  return null;
}

@Injectable()
export class SendAgentReplyUseCase {
  constructor(
    private readonly transactions: Transactions,
    private readonly conversations: ConversationStore,
    private readonly messages: MessageStore,
    private readonly channels: SmsChannelStore,
    private readonly optOuts: SmsOptOutStore,
    private readonly jobQueue: JobQueue,
  ) {}

  async execute(
    organizationId: string,
    conversationId: string,
    body: string,
    /** The HTTP request's id: the send job's log lines carry it. */
    requestId?: string,
  ): Promise<MessageResponse> {
    const message = await this.transactions.run(async (tx) => {
      // The row lock orders this reply with an inbound STOP or another reply on the same thread.
      const conversation = await this.conversations.lockForAgentReply(
        tx,
        organizationId,
        conversationId,
      );
      if (!conversation) throw Errors.notFound('Conversation');
      // Share-locked: a concurrent disconnect waits for this commit, so a reply is never queued
      // for a channel already gone; one disconnected after the commit is the delivery worker's to
      // fail. Read after the conversation's lock, the opt-out check sees an inbound STOP on the
      // same conversation; the delivery worker checks again.
      const channel = conversation.channelId
        ? await this.channels.lockForAgentReply(tx, {
            id: conversation.channelId,
            organizationId,
            chatbotId: conversation.chatbotId,
          })
        : null;
      const optedOut = channel
        ? await this.optOuts.isOptedOut(optOutSender(channel), conversation.customerNumber, tx)
        : false;
      const refusal = agentReplyRefusal(conversation, channel, optedOut);
      if (refusal) throw refusal;
      const stored = await this.messages.storeAgentReply(tx, {
        organizationId,
        conversationId,
        body,
        ...countSegments(body),
        preview: messagePreview(body),
      });
      await this.jobQueue.sendInTransaction(
        tx,
        QUEUES.smsSend,
        { messageId: stored.id, organizationId, requestId },
        stored.id,
      );
      return stored;
    });
    this.jobQueue.nudge(QUEUES.smsSend);
    return MessageResponse.of(message);
  }
}
