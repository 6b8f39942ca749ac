import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Matches, MaxLength } from 'class-validator';
import { PageOf } from '../../../common/pagination/page';

export const KNOWLEDGE_TITLE_MAX_CHARS = 200;
export const KNOWLEDGE_CONTENT_MAX_CHARS = 100_000;

const trim = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.trim() : value;

export class CreateKnowledgeDocumentDto {
  @ApiProperty({ example: 'Account and passwords', maxLength: KNOWLEDGE_TITLE_MAX_CHARS })
  @Transform(trim)
  @IsString()
  @Matches(/\S/, { message: 'title must not be blank' })
  @MaxLength(KNOWLEDGE_TITLE_MAX_CHARS)
  title: string;

  @ApiProperty({
    description:
      'Plain text or markdown. Split into passages on paragraph and sentence boundaries; ' +
      'the agent answers from the passages that best match a question.',
    example:
      'Reset your password from the settings page: open Settings, choose Security and click ' +
      '"Reset password". We email you a link that works for 30 minutes.\n\n' +
      'Invoices are sent on the first day of every month.',
    maxLength: KNOWLEDGE_CONTENT_MAX_CHARS,
  })
  @IsString()
  @Matches(/\S/, { message: 'content must not be blank' })
  @MaxLength(KNOWLEDGE_CONTENT_MAX_CHARS)
  content: string;
}

export interface KnowledgeDocumentSummary {
  id: string;
  title: string;
  passages: number;
  createdAt: Date;
}

export class KnowledgeDocumentResponse implements KnowledgeDocumentSummary {
  @ApiProperty({ format: 'uuid', example: '0b5c1f0e-6a43-4a8e-9a0e-3f1a2b4c5d6e' }) id: string;
  @ApiProperty({ example: 'Account and passwords' }) title: string;
  @ApiProperty({
    type: 'integer',
    minimum: 1,
    example: 2,
    description: 'How many passages the document was split into',
  })
  passages: number;
  @ApiProperty({ example: '2026-11-25T14:03:07.123Z' }) createdAt: Date;

  static of({
    id,
    title,
    passages,
    createdAt,
  }: KnowledgeDocumentSummary): KnowledgeDocumentResponse {
    return { id, title, passages, createdAt };
  }
}

export class KnowledgeDocumentPage extends PageOf(KnowledgeDocumentResponse, 'Oldest first') {}
