import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import type { Chatbot } from '../chatbot.entity';

/** Text search configurations PostgreSQL ships (PGlite included). */
export const TEXT_SEARCH_LANGUAGES = [
  'simple',
  'arabic',
  'danish',
  'dutch',
  'english',
  'finnish',
  'french',
  'german',
  'hungarian',
  'italian',
  'norwegian',
  'portuguese',
  'romanian',
  'russian',
  'spanish',
  'swedish',
  'turkish',
];

export class CreateChatbotDto {
  @ApiProperty({ example: 'Product support' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @ApiPropertyOptional({
    example: 'You are the friendly support assistant of Acme. Answer briefly.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  systemPrompt?: string;

  @ApiPropertyOptional({ example: "Sorry, I don't know that yet. A person will follow up." })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(1_600)
  fallbackMessage?: string;

  @ApiPropertyOptional({
    example: 'Sorry, I can only read text messages.',
    description: 'Reply to an MMS without text',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(1_600)
  mediaOnlyReply?: string;

  @ApiPropertyOptional({ example: 'simple', enum: TEXT_SEARCH_LANGUAGES })
  @IsOptional()
  @IsIn(TEXT_SEARCH_LANGUAGES)
  language?: string;
}

export class UpdateChatbotDto extends PartialType(CreateChatbotDto) {}

export class ChatbotResponse {
  @ApiProperty({ example: '3f0b6a9e-8d0c-4c1e-9a51-2b7f5f7f2f10' }) id: string;
  @ApiProperty({ example: 'Product support' }) name: string;
  @ApiProperty() systemPrompt: string;
  @ApiProperty() fallbackMessage: string;
  @ApiProperty() mediaOnlyReply: string;
  @ApiProperty({ example: 'simple' }) language: string;
  @ApiProperty() createdAt: Date;
  @ApiProperty() updatedAt: Date;

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
