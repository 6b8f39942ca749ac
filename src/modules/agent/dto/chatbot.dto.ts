import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { IsIn, IsString, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { MaxUtf16Length } from '../../../common/validation/max-utf16-length.decorator';
import { TWILIO_MAX_BODY_CHARS } from '../../../common/sms';
import type { Chatbot } from '../chatbot.entity';
import { TEXT_SEARCH_LANGUAGES } from '../text-search-languages';
import { PageOf } from '../../../common/pagination/page';

export { TEXT_SEARCH_LANGUAGES };

/**
 * Optional, but not nullable: @IsOptional() would let `null` through to NOT NULL columns and turn a
 * client mistake into a 500.
 */
const IsOptionalNotNull = (): PropertyDecorator =>
  ValidateIf((_object: object, value: unknown) => value !== undefined);

export class CreateChatbotDto {
  @ApiProperty({ example: 'Product support' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @ApiPropertyOptional({
    example: 'You are the friendly support assistant of Acme. Answer briefly.',
  })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(20_000)
  systemPrompt?: string;

  @ApiPropertyOptional({
    example: "Sorry, I don't know that yet. A person will follow up.",
    maxLength: TWILIO_MAX_BODY_CHARS,
    description: `Sent when the agent has no answer or fails; at most ${TWILIO_MAX_BODY_CHARS} UTF-16 code units (one SMS body)`,
  })
  @IsOptionalNotNull()
  @IsString()
  @MinLength(1)
  @MaxUtf16Length(TWILIO_MAX_BODY_CHARS)
  fallbackMessage?: string;

  @ApiPropertyOptional({
    example: 'Sorry, I can only read text messages.',
    maxLength: TWILIO_MAX_BODY_CHARS,
    description: `Reply to an MMS without text; at most ${TWILIO_MAX_BODY_CHARS} UTF-16 code units (one SMS body)`,
  })
  @IsOptionalNotNull()
  @IsString()
  @MinLength(1)
  @MaxUtf16Length(TWILIO_MAX_BODY_CHARS)
  mediaOnlyReply?: string;

  @ApiPropertyOptional({ example: 'simple', enum: TEXT_SEARCH_LANGUAGES })
  @IsOptionalNotNull()
  @IsIn(TEXT_SEARCH_LANGUAGES)
  language?: string;
}

export class UpdateChatbotDto extends PartialType(CreateChatbotDto, {
  skipNullProperties: false,
}) {}

export class ChatbotResponse {
  @ApiProperty({ format: 'uuid', example: '3f0b6a9e-8d0c-4c1e-9a51-2b7f5f7f2f10' }) id: string;
  @ApiProperty({ example: 'Product support' }) name: string;
  @ApiProperty({ example: 'You are the friendly support assistant of Acme. Answer briefly.' })
  systemPrompt: string;
  @ApiProperty({ example: "Sorry, I don't know that yet. A person will follow up." })
  fallbackMessage: string;
  @ApiProperty({ example: 'Sorry, I can only read text messages.' }) mediaOnlyReply: string;
  @ApiProperty({
    enum: TEXT_SEARCH_LANGUAGES,
    example: 'simple',
    description: 'The PostgreSQL text-search configuration its knowledge is indexed with',
  })
  language: string;
  @ApiProperty({ example: '2026-11-25T14:03:07.123Z' }) createdAt: Date;
  @ApiProperty({ example: '2026-11-25T14:03:07.123Z' }) updatedAt: Date;

  static of(chatbot: Chatbot): ChatbotResponse {
    const {
      id,
      name,
      systemPrompt,
      fallbackMessage,
      mediaOnlyReply,
      language,
      createdAt,
      updatedAt,
    } = chatbot;
    return {
      id,
      name,
      systemPrompt,
      fallbackMessage,
      mediaOnlyReply,
      language,
      createdAt,
      updatedAt,
    };
  }
}

export class ChatbotPage extends PageOf(ChatbotResponse, 'Oldest first') {}
