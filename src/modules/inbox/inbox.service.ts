/**
 * Reading and routing conversations for the dashboard. Every query is scoped by the organization
 * the API key resolved to; another organization's conversation reads as missing (404).
 */
import { Injectable } from '@nestjs/common';
import { Errors } from '../../common/errors/errors';
import { PageQuery } from '../../common/pagination/page';
import { ChatbotsService } from '../agent';
import { Conversation, ConversationStatus } from './conversation.entity';
import { ConversationStore } from './conversation.store';
import {
  ConversationDetail,
  ConversationPage,
  ConversationResponse,
  ListConversationsQuery,
  MAX_MESSAGES,
  MessagePage,
} from './dto/conversation.dto';
import { MessageResponse } from './dto/message.dto';
import { MessageStore } from './message.store';

@Injectable()
export class InboxService {
  constructor(
    private readonly conversations: ConversationStore,
    private readonly messages: MessageStore,
    private readonly chatbots: ChatbotsService,
  ) {}

  async list(
    organizationId: string,
    chatbotId: string,
    query: ListConversationsQuery,
  ): Promise<ConversationPage> {
    await this.chatbots.get(organizationId, chatbotId);
    const page = await this.conversations.page(organizationId, chatbotId, query);
    return { items: page.items.map(ConversationResponse.of), nextCursor: page.nextCursor };
  }

  async listMessages(
    organizationId: string,
    conversationId: string,
    query: PageQuery,
  ): Promise<MessagePage> {
    await this.find(organizationId, conversationId);
    const page = await this.messages.page(organizationId, conversationId, query);
    return { items: page.items.map(MessageResponse.of), nextCursor: page.nextCursor };
  }

  async get(organizationId: string, conversationId: string): Promise<ConversationDetail> {
    const conversation = await this.find(organizationId, conversationId);
    const latest = await this.messages.latest(organizationId, conversationId, MAX_MESSAGES + 1);
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
    if (!(await this.conversations.setStatus(organizationId, conversationId, status)))
      throw Errors.notFound('Conversation');
    return ConversationResponse.of(await this.find(organizationId, conversationId));
  }

  private async find(organizationId: string, conversationId: string): Promise<Conversation> {
    const conversation = await this.conversations.find(organizationId, conversationId);
    if (!conversation) throw Errors.notFound('Conversation');
    return conversation;
  }
}
