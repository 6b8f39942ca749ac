import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import type { SmsChannel } from '../sms-channel.entity';

export class ConnectSmsChannelDto {
  @ApiProperty({
    example: 'AC0123456789abcdef0123456789abcdef',
    description: '"AC" + 32 hex characters',
  })
  @IsString()
  @Matches(/^AC[0-9a-fA-F]{32}$/, {
    message: 'accountSid must be "AC" followed by 32 hex characters (34 in all)',
  })
  accountSid: string;

  @ApiProperty({
    example: '0123456789abcdef0123456789abcdef',
    description: 'Twilio Auth Token, 32 characters; stored encrypted, never returned',
    writeOnly: true,
  })
  @IsString()
  @Matches(/^[0-9A-Za-z]{32}$/, { message: 'authToken must be 32 letters or digits' })
  authToken: string;

  @ApiProperty({ example: '+358401234567', description: 'The Twilio number in E.164 format' })
  @IsString()
  @Matches(/^\+[1-9]\d{6,14}$/, {
    message: 'phoneNumber must be in E.164 format, e.g. +358401234567',
  })
  phoneNumber: string;

  @ApiPropertyOptional({ example: 'Product support', maxLength: 64 })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  friendlyName?: string;

  @ApiPropertyOptional({
    example: true,
    description: 'Also point the number\'s "A message comes in" webhook at us (HTTP POST)',
  })
  @IsOptional()
  @IsBoolean()
  configureWebhook?: boolean;
}

export class SmsChannelStatus {
  @ApiProperty({ example: true }) connected: boolean;
  @ApiProperty({ example: 'AC0123456789abcdef0123456789abcdef', nullable: true, type: String })
  accountSid: string | null;
  @ApiProperty({ example: '+358401234567', nullable: true, type: String }) phoneNumber:
    string | null;
  @ApiProperty({ example: 'Product support', nullable: true, type: String }) friendlyName:
    string | null;
  @ApiProperty({ format: 'uri', example: 'https://app.example.com/api/webhooks/twilio/sms' })
  webhookUrl: string;
  @ApiProperty({ nullable: true, type: Date, example: '2026-11-25T14:03:07.123Z' })
  connectedAt: Date | null;
  @ApiProperty({ nullable: true, type: Date, example: '2026-11-25T14:03:07.123Z' })
  lastInboundAt: Date | null;
  @ApiProperty({ nullable: true, type: Date, example: '2026-11-25T14:03:07.123Z' })
  lastOutboundAt: Date | null;
  @ApiProperty({ nullable: true, type: String, example: null }) lastError: string | null;
  @ApiProperty({ example: false, description: 'Trial accounts can only text verified numbers' })
  trialAccount: boolean;
  @ApiProperty({
    example: true,
    nullable: true,
    type: Boolean,
    description: "The number's SmsUrl pointed at webhookUrl when last checked; null when unknown",
  })
  webhookConfigured: boolean | null;

  static of(channel: SmsChannel | null, webhookUrl: string): SmsChannelStatus {
    return {
      connected: Boolean(channel),
      accountSid: channel?.accountSid ?? null,
      phoneNumber: channel?.phoneNumber ?? null,
      friendlyName: channel?.friendlyName ?? null,
      webhookUrl,
      connectedAt: channel?.connectedAt ?? null,
      lastInboundAt: channel?.lastInboundAt ?? null,
      lastOutboundAt: channel?.lastOutboundAt ?? null,
      lastError: channel?.lastError ?? null,
      trialAccount: channel?.accountType === 'Trial',
      webhookConfigured: channel?.webhookPointsToUs ?? null,
    };
  }
}
