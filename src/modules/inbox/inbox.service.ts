/**
 * Reading and routing conversations for the dashboard. Every query is scoped by the organization
 * the API key resolved to; another organization's conversation reads as missing (404).
 */
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { notFound } from '../../common/errors/domain-error';
import { ChatbotsService } from '../agent';
import { Conversation, ConversationStatus } from './conversation.entity';
import { applyKeyset, PageQuery, toPage } from '../../common/pagination/page';
import {
  ConversationDetail,
  ConversationPage,
  ConversationResponse,
  ListConversationsQuery,
  MAX_MESSAGES,
  MessagePage,
} from './dto/conversation.dto';
import { MessageResponse } from './dto/message.dto';
import { Message } from './message.entity';

@Injectable()
export class InboxService {
  constructor(
    @InjectRepository(Conversation) private readonly conversations: Repository<Conversation>,
    @InjectRepository(Message) private readonly messages: Repository<Message>,
    private readonly chatbots: ChatbotsService,
  ) {}

  /**
   * Keyset pagination on (lastMessageAt DESC, id DESC), served backwards from
   * conversations_chatbot_last_message_idx; a page never costs more than `limit + 1` rows.
   */
  async list(
    organizationId: string,
    chatbotId: string,
    query: ListConversationsQuery,
  ): Promise<ConversationPage> {
    await this.chatbots.get(organizationId, chatbotId);
    const qb = this.conversations
      .createQueryBuilder('c')
      .where('c.organizationId = :organizationId', { organizationId })
      .andWhere('c.chatbotId = :chatbotId', { chatbotId })
      .andWhere('c.channel = :channel', { channel: query.channel ?? 'sms' });
    if (query.status) qb.andWhere('c.status = :status', { status: query.status });
    applyKeyset(qb, { at: 'c.lastMessageAt', id: 'c.id', order: 'DESC' }, query);
    const { entities, raw } = await qb.getRawAndEntities();
    return toPage(entities, raw, query, ConversationResponse.of);
  }

  /** A conversation's messages newest first, any number of pages back (messages_conversation_created_idx). */
  async listMessages(
    organizationId: string,
    conversationId: string,
    query: PageQuery,
  ): Promise<MessagePage> {
    await this.find(organizationId, conversationId);
    const qb = this.messages
      .createQueryBuilder('m')
      .where('m.conversationId = :conversationId', { conversationId })
      .andWhere('m.organizationId = :organizationId', { organizationId });
    applyKeyset(qb, { at: 'm.createdAt', id: 'm.id', order: 'DESC' }, query);
    const { entities, raw } = await qb.getRawAndEntities();
    return toPage(entities, raw, query, MessageResponse.of);
  }

  async get(organizationId: string, conversationId: string): Promise<ConversationDetail> {
    const conversation = await this.find(organizationId, conversationId);
    const latest = await this.messages.find({
      where: { conversationId, organizationId },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: MAX_MESSAGES + 1,
    });
    return {
      ...ConversationResponse.of(conversation),
      messages: latest.slice(0, MAX_MESSAGES).reverse().map(MessageResponse.of),
      hasEarlierMessages: latest.length > MAX_MESSAGES,
    };
  }

  /** escalate → 'human', release → 'bot'; setting the status it already has is a no-op. */
  async setStatus(
    organizationId: string,
    conversationId: string,
    status: Extract<ConversationStatus, 'bot' | 'human'>,
  ): Promise<ConversationResponse> {
    const result = await this.conversations.update(
      { id: conversationId, organizationId },
      { status },
    );
    if (!result.affected) throw notFound('Conversation');
    return ConversationResponse.of(await this.find(organizationId, conversationId));
  }

  private async find(organizationId: string, conversationId: string): Promise<Conversation> {
    const conversation = await this.conversations.findOneBy({ id: conversationId, organizationId });
    if (!conversation) throw notFound('Conversation');
    return conversation;
  }
}
