/**
 * A person in the inbox answers a customer by SMS. One transaction stores the outbound message,
 * moves the conversation to `human` (a person replying takes it over, so the bot stays silent
 * until someone releases it) and enqueues the `sms-send` job; the delivery worker then sends it
 * from the channel's number and records Twilio's verdict on the message.
 */
import { QUEUES } from '../../queue/queue-names';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError, notFound } from '../../common/errors/domain-error';
import { JobQueue } from '../../queue/job-queue';
import { SmsChannel } from '../channels';
import { optOutSender, SmsOptOutStore } from '../opt-outs';
import { countSegments, DELIVERY_RANK, isReplyableSender, messagePreview } from '../../common/sms';
import { Conversation } from './conversation.entity';
import { MessageResponse } from './dto/message.dto';
import { Message } from './message.entity';

@Injectable()
export class SendAgentReplyUseCase {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly jobQueue: JobQueue,
    private readonly optOuts: SmsOptOutStore,
  ) {}

  async execute(
    organizationId: string,
    conversationId: string,
    body: string,
    /** The HTTP request's id: the send job's log lines carry it. */
    requestId?: string,
  ): Promise<MessageResponse> {
    const message = await this.dataSource.transaction(async (manager) => {
      const conversation = await this.lockConversation(manager, organizationId, conversationId);
      await this.assertCanText(manager, conversation);
      const { segments, encoding } = countSegments(body);
      const saved = await manager.save(
        manager.create(Message, {
          conversationId,
          organizationId,
          direction: 'outbound',
          author: 'agent',
          body,
          deliveryStatus: 'pending',
          deliveryRank: DELIVERY_RANK.pending,
          segments,
          encoding,
          errorCode: null,
          errorMessage: null,
          mediaDropped: 0,
        }),
      );
      await manager
        .createQueryBuilder()
        .update(Conversation)
        // now() is the transaction's start, the same instant as the message's created_at;
        // GREATEST keeps the list order monotonic if an inbound message committed meanwhile.
        .set({
          lastMessageAt: () => 'GREATEST(last_message_at, now())',
          lastMessagePreview: messagePreview(body),
          status: 'human',
        })
        .where('id = :id', { id: conversationId })
        .execute();
      await this.jobQueue.sendInTransaction(
        manager,
        QUEUES.smsSend,
        { messageId: saved.id, organizationId, requestId },
        saved.id,
      );
      return saved;
    });
    this.jobQueue.nudge(QUEUES.smsSend);
    return MessageResponse.of(message);
  }

  /** The row lock orders this reply with an inbound STOP or another reply on the same thread. */
  private async lockConversation(
    manager: EntityManager,
    organizationId: string,
    conversationId: string,
  ): Promise<Conversation> {
    const conversation = await manager.findOne(Conversation, {
      where: { id: conversationId, organizationId },
      lock: { mode: 'pessimistic_write' },
    });
    if (!conversation) throw notFound('Conversation');
    return conversation;
  }

  /**
   * The number the customer texted must still be connected, the customer must be a number we can
   * text from it, and must not have opted out of it. The share lock makes a concurrent disconnect
   * wait for this commit, so a reply is never queued for a channel already gone; one disconnected
   * after the commit is the delivery worker's to fail. The conversation's row lock orders this
   * check after an inbound STOP on the same conversation; the delivery worker checks again.
   */
  private async assertCanText(manager: EntityManager, conversation: Conversation): Promise<void> {
    const channel = conversation.channelId
      ? await manager.findOne(SmsChannel, {
          where: {
            id: conversation.channelId,
            organizationId: conversation.organizationId,
            chatbotId: conversation.chatbotId,
          },
          lock: { mode: 'pessimistic_read' },
        })
      : null;
    if (!channel) {
      throw new DomainError(
        'CHANNEL_NOT_CONNECTED',
        "This conversation's SMS number is no longer connected; reconnect the SMS channel to reply",
      );
    }
    if (!isReplyableSender(conversation.customerNumber, channel.phoneNumber)) {
      throw new DomainError(
        'CONTACT_NOT_REPLYABLE',
        "This sender can't be texted back: it is a short code, an alphanumeric sender ID or this channel's own number",
      );
    }
    if (
      await this.optOuts.isOptedOut(optOutSender(channel), conversation.customerNumber, manager)
    ) {
      throw new DomainError(
        'CONTACT_OPTED_OUT',
        'This customer opted out of SMS from this number (replied STOP); they can be texted again after they send START',
      );
    }
  }
}
