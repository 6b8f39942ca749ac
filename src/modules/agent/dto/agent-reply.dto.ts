import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsString,
  Matches,
  MaxLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import type { ConversationAuthor, ReplyFormat } from '../agent-provider';

export const AGENT_MESSAGE_MAX_CHARS = 2_000;
const AUTHORS: ConversationAuthor[] = ['customer', 'bot', 'agent'];
const FORMATS: ReplyFormat[] = ['markdown', 'plain'];

const IsOptionalNotNull = (): PropertyDecorator =>
  ValidateIf((_object: object, value: unknown) => value !== undefined);

export class ConversationTurnDto {
  @ApiProperty({ enum: AUTHORS, example: 'customer' })
  @IsIn(AUTHORS)
  author: ConversationAuthor;

  @ApiProperty({ example: 'Hi, I forgot my password', maxLength: AGENT_MESSAGE_MAX_CHARS })
  @IsString()
  @MaxLength(AGENT_MESSAGE_MAX_CHARS)
  text: string;
}

export class AgentReplyDto {
  @ApiProperty({
    example: 'How do I reset my password?',
    minLength: 1,
    maxLength: AGENT_MESSAGE_MAX_CHARS,
  })
  @IsString()
  @Matches(/\S/, { message: 'message must not be blank' })
  @MaxLength(AGENT_MESSAGE_MAX_CHARS)
  message: string;

  @ApiPropertyOptional({
    type: [ConversationTurnDto],
    description: 'Earlier messages of this test conversation, oldest first (at most 50)',
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => ConversationTurnDto)
  history?: ConversationTurnDto[];

  @ApiPropertyOptional({
    enum: FORMATS,
    default: 'markdown',
    example: 'plain',
    description: '`plain` previews the reply exactly as an SMS would carry it',
  })
  @IsOptionalNotNull()
  @IsIn(FORMATS)
  format?: ReplyFormat;
}

export class UsedPassageDto {
  @ApiProperty({ format: 'uuid', example: '0b5c1f0e-6a43-4a8e-9a0e-3f1a2b4c5d6e' })
  documentId: string;
  @ApiProperty({ format: 'uuid', example: '5d0e9c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6' })
  passageId: string;
}

export class AgentReplyResponse {
  @ApiProperty({ example: 'Reset your password from the settings page.' })
  reply: string;

  @ApiProperty({
    type: [UsedPassageDto],
    description: 'Knowledge the reply drew on; empty when the fallback message was sent',
  })
  usedPassages: UsedPassageDto[];
}
