import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageOf, PageQuery } from '../../../common/pagination/page';
import { Conversation, CONVERSATION_STATUSES, ConversationStatus } from '../conversation.entity';
import { OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS } from '../../../common/sms';
import { MessageResponse } from './message.dto';

export const CONVERSATION_CHANNELS = ['sms'] as const;
/** The conversation view returns at most this many messages, the latest ones. */
export const MAX_MESSAGES = 500;

export class ListConversationsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: CONVERSATION_CHANNELS, default: 'sms', example: 'sms' })
  @IsOptional()
  @IsIn(CONVERSATION_CHANNELS)
  channel?: 'sms';

  // No example: Swagger UI would pre-fill it and hide the other conversations.
  @ApiPropertyOptional({
    enum: CONVERSATION_STATUSES,
    description: 'Only conversations with this status; omit for all',
  })
  @IsOptional()
  @IsIn(CONVERSATION_STATUSES)
  status?: ConversationStatus;
}

export class ConversationResponse {
  @ApiProperty({ format: 'uuid', example: '5d6e7f80-91a2-4b3c-8d4e-5f6a7b8c9d0e' }) id: string;
  @ApiProperty({ format: 'uuid', example: '3f0b6a9e-8d0c-4c1e-9a51-2b7f5f7f2f10' })
  chatbotId: string;
  @ApiProperty({ enum: CONVERSATION_CHANNELS, example: 'sms' }) channel: 'sms';
  @ApiProperty({
    example: '+358401234567',
    description:
      "The customer's number as Twilio signed it: E.164, or a short code or alphanumeric sender ID (those are never texted back)",
  })
  customerNumber: string;
  @ApiProperty({
    enum: CONVERSATION_STATUSES,
    example: 'bot',
    description: 'bot: the AI agent answers; human: a person took over, the bot stays silent',
  })
  status: ConversationStatus;
  @ApiProperty({
    example: false,
    description: `The customer opted out of the number this conversation was last texted at (${OPT_OUT_KEYWORDS.join(', ')}, or Twilio refused a send with 21610): neither the bot nor a person can text them from it until they send ${OPT_IN_KEYWORDS.join(', ')}. It follows the number, whichever chatbot it is connected to`,
  })
  optedOut: boolean;
  @ApiProperty({
    example: 'Where is my order?',
    description: 'The last message, first 140 characters',
  })
  lastMessagePreview: string;
  @ApiProperty({ example: '2025-11-25T14:03:07.123Z' }) lastMessageAt: Date;
  @ApiProperty({ example: '2025-11-24T09:12:44.501Z' }) createdAt: Date;

  static of(conversation: Conversation): ConversationResponse {
    return {
      id: conversation.id,
      chatbotId: conversation.chatbotId,
      channel: conversation.channel,
      customerNumber: conversation.customerNumber,
      status: conversation.status,
      optedOut: conversation.optedOut,
      lastMessagePreview: conversation.lastMessagePreview,
      lastMessageAt: conversation.lastMessageAt,
      createdAt: conversation.createdAt,
    };
  }
}

export class ConversationPage extends PageOf(ConversationResponse, 'Latest activity first') {}

export class MessagePage extends PageOf(
  MessageResponse,
  'Newest first: the next page holds older messages',
) {}

export class ConversationDetail extends ConversationResponse {
  @ApiProperty({
    type: [MessageResponse],
    description: `Oldest first; at most the latest ${MAX_MESSAGES} messages`,
  })
  messages: MessageResponse[];
  @ApiProperty({
    example: false,
    description: `True when the conversation has more than ${MAX_MESSAGES} messages and older ones were left out`,
  })
  hasEarlierMessages: boolean;
}
