import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min, ValidateBy } from 'class-validator';
import { decodeCursor } from '../conversation-cursor';
import { Conversation, CONVERSATION_STATUSES, ConversationStatus } from '../conversation.entity';
import { OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS } from '../../../common/sms';
import { MessageResponse } from './message.dto';

export const CONVERSATION_CHANNELS = ['sms'] as const;
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
/** The conversation view returns at most this many messages, the latest ones. */
export const MAX_MESSAGES = 500;

const IsConversationCursor = (): PropertyDecorator =>
  ValidateBy({
    name: 'isConversationCursor',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && decodeCursor(value) !== null,
      defaultMessage: () => 'cursor must be a nextCursor returned by this endpoint',
    },
  });

export class ListConversationsQuery {
  @ApiPropertyOptional({ enum: CONVERSATION_CHANNELS, default: 'sms', example: 'sms' })
  @IsOptional()
  @IsIn(CONVERSATION_CHANNELS)
  channel?: 'sms';

  @ApiPropertyOptional({ enum: CONVERSATION_STATUSES, example: 'human' })
  @IsOptional()
  @IsIn(CONVERSATION_STATUSES)
  status?: ConversationStatus;

  @ApiPropertyOptional({
    description: "The previous page's `nextCursor`; omit for the first page",
    example:
      'MjAyNS0xMS0yNVQxNDowMzowNy4xMjM0NTZafDNmMGI2YTllLThkMGMtNGMxZS05YTUxLTJiN2Y1ZjdmMmYxMA',
  })
  @IsOptional()
  @IsConversationCursor()
  cursor?: string;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    default: DEFAULT_PAGE_SIZE,
    example: DEFAULT_PAGE_SIZE,
  })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit: number = DEFAULT_PAGE_SIZE;
}

export class ConversationResponse {
  @ApiProperty({ example: '5d6e7f80-91a2-4b3c-8d4e-5f6a7b8c9d0e' }) id: string;
  @ApiProperty({ example: '3f0b6a9e-8d0c-4c1e-9a51-2b7f5f7f2f10' }) chatbotId: string;
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

export class ConversationPage {
  @ApiProperty({ type: [ConversationResponse], description: 'Newest activity first' })
  items: ConversationResponse[];
  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'Pass as `cursor` for the next page; null on the last page',
  })
  nextCursor: string | null;
}

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
