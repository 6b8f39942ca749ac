import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { MaxUtf16Length } from '../../../common/validation/max-utf16-length.decorator';
import { TWILIO_MAX_BODY_CHARS } from '../../../common/sms';
import type { MessageAuthor, MessageDirection } from '../message.entity';
import type { StoredMessage } from '../message.store';

export class SendAgentReplyDto {
  @ApiProperty({
    example: "Hi! I'm Anna from Acme support. Your order left our warehouse this morning.",
    minLength: 1,
    maxLength: TWILIO_MAX_BODY_CHARS,
    description: `The SMS text, 1 to ${TWILIO_MAX_BODY_CHARS} characters counted in UTF-16 code units, as Twilio counts: most emoji count as 2, so at most ${TWILIO_MAX_BODY_CHARS / 2} of them`,
  })
  @IsString()
  @MaxUtf16Length(TWILIO_MAX_BODY_CHARS)
  @Matches(/\S/, { message: 'body must not be empty or blank' })
  body: string;
}

/**
 * Every `deliveryStatus` a message can have: ours (`received` for inbound, `pending` stored and
 * not sent yet, `sending` handed to Twilio) and Twilio's Message statuses (message_enum_status in
 * its API document), which its answers and status callbacks set.
 */
export const DELIVERY_STATUSES = [
  'received',
  'pending',
  'sending',
  'accepted',
  'scheduled',
  'queued',
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'canceled',
  'read',
  'receiving',
  'partially_delivered',
] as const;

export class MessageResponse {
  @ApiProperty({ format: 'uuid', example: '9b1c2d3e-4f50-4a6b-8c7d-0e1f2a3b4c5d' }) id: string;
  @ApiProperty({ enum: ['inbound', 'outbound'], example: 'outbound' }) direction: MessageDirection;
  @ApiProperty({
    enum: ['customer', 'bot', 'agent'],
    example: 'agent',
    description: 'customer: texted us; bot: the AI agent; agent: a person in the inbox',
  })
  author: MessageAuthor;
  @ApiProperty({ example: 'Your order left our warehouse this morning.' }) body: string;
  @ApiProperty({
    enum: DELIVERY_STATUSES,
    example: 'delivered',
    description:
      "received (inbound); pending, sending, then Twilio's own: queued, sent, delivered, undelivered, failed…",
  })
  deliveryStatus: string;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: null,
    description: "Twilio's error code (e.g. 30003, 21610)",
  })
  errorCode: number | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'Why delivery failed, in words a person can act on',
  })
  errorMessage: string | null;
  @ApiProperty({
    type: 'integer',
    minimum: 0,
    example: 1,
    description: 'SMS parts billed (GSM-7: 160, or 153 per part; UCS-2: 70, or 67)',
  })
  segments: number;
  @ApiProperty({ enum: ['GSM-7', 'UCS-2'], example: 'GSM-7' }) encoding: string;
  @ApiProperty({
    type: 'integer',
    minimum: 0,
    example: 0,
    description: 'MMS attachments dropped (only text is supported)',
  })
  mediaDropped: number;
  @ApiProperty({ example: '2025-11-25T14:03:07.123Z' }) createdAt: Date;

  static of(message: StoredMessage): MessageResponse {
    return {
      id: message.id,
      direction: message.direction,
      author: message.author,
      body: message.body,
      deliveryStatus: message.deliveryStatus,
      errorCode: message.errorCode,
      errorMessage: message.errorMessage,
      segments: message.segments,
      encoding: message.encoding,
      mediaDropped: message.mediaDropped,
      createdAt: message.createdAt,
    };
  }
}
