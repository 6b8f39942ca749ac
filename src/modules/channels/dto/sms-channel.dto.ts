import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { ACCOUNT_SID, E164, MESSAGING_SERVICE_SID } from '../../../common/sms';
import { StoredHealth, storedHealthOf } from '../sms-channel.store';
import type { InboundWebhookOn, SmsChannel } from '../sms-channel.entity';

/** `true`: set the inbound URL Twilio reads; `'service'`: also take over a shared service's. */
export type ConfigureWebhook = boolean | 'service';

export class ConnectSmsChannelDto {
  @ApiProperty({
    example: 'AC0123456789abcdef0123456789abcdef',
    description: '"AC" + 32 hex characters',
  })
  @IsString()
  @Matches(ACCOUNT_SID, {
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
  @Matches(E164, {
    message: 'phoneNumber must be in E.164 format, e.g. +358401234567',
  })
  phoneNumber: string;

  @ApiPropertyOptional({ example: 'Product support', maxLength: 64 })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  friendlyName?: string;

  @ApiPropertyOptional({
    example: 'MG0123456789abcdef0123456789abcdef',
    description:
      'The Messaging Service the number is in ("MG" + 32 hex); checked against the account. Without it the service holding the number, if any, is found for you',
  })
  @IsOptional()
  @IsString()
  @Matches(MESSAGING_SERVICE_SID, {
    message: 'messagingServiceSid must be "MG" followed by 32 hex characters (34 in all)',
  })
  messagingServiceSid?: string;

  @ApiPropertyOptional({
    oneOf: [{ type: 'boolean' }, { type: 'string', enum: ['service'] }],
    example: true,
    description:
      '`true`: point the inbound URL Twilio reads for the number at us (HTTP POST): the number\'s "A message comes in" URL, or its Messaging Service\'s Incoming Messages URL when the service does not defer to its numbers. ' +
      "A service that already sends other numbers' messages elsewhere is not changed (409 `MESSAGING_SERVICE_IN_USE`) unless you pass `'service'`, which takes the whole service over.",
  })
  @IsOptional()
  @IsIn([true, false, 'service'], {
    message: "configureWebhook must be true, false or 'service'",
  })
  configureWebhook?: ConfigureWebhook;
}

export class SmsChannelMessagingService {
  @ApiProperty({ example: 'MG0123456789abcdef0123456789abcdef' }) sid: string;
  @ApiProperty({ example: 'Support (A2P)', nullable: true, type: String }) friendlyName:
    string | null;
  @ApiProperty({
    enum: ['number', 'service'],
    example: 'service',
    description:
      "Where Twilio reads the inbound URL: the number's own SmsUrl (the service defers to its senders) or the service's Incoming Messages URL",
  })
  inboundWebhook: InboundWebhookOn;
  @ApiProperty({
    example: true,
    description: 'A US A2P 10DLC campaign is registered on the service',
  })
  usA2pRegistered: boolean;
}

/** The customer's new Auth Token, while rotating it in Twilio (Secondary → Promote). */
export class RotateAuthTokenDto {
  @ApiProperty({
    example: 'fedcba9876543210fedcba9876543210',
    description:
      'The new (secondary) Auth Token, 32 characters; probed against Twilio first, stored encrypted beside the current one, never returned',
    writeOnly: true,
  })
  @IsString()
  @Matches(/^[0-9A-Za-z]{32}$/, { message: 'authToken must be 32 letters or digits' })
  authToken: string;
}

export class SmsChannelHealth {
  @ApiProperty({
    nullable: true,
    type: Date,
    example: '2026-11-25T14:03:07.123Z',
    description: 'When Twilio was last asked (at most once a minute per channel); null: never',
  })
  checkedAt: Date | null;
  @ApiProperty({
    enum: ['valid', 'rejected', 'unknown'],
    example: 'valid',
    description:
      'Whether Twilio accepts the stored Auth Token; rejected: it was rotated or revoked in Twilio (give us the new one: POST …/channels/sms/auth-token); unknown: Twilio did not answer',
  })
  credentials: 'valid' | 'rejected' | 'unknown';
  @ApiProperty({
    enum: ['present', 'gone', 'unknown'],
    example: 'present',
    description: 'Whether the number is still on the Twilio account (gone: released or moved)',
  })
  number: 'present' | 'gone' | 'unknown';
  @ApiProperty({
    enum: ['ours', 'elsewhere', 'unset', 'unknown'],
    example: 'ours',
    description:
      "Where the number's incoming messages go (the URL Twilio reads: the number's, or its Messaging Service's when the service does not defer to its numbers): ours (webhookUrl), elsewhere (inboundUrl), unset (nowhere); POST …/channels/sms/webhook points it at us again",
  })
  inbound: 'ours' | 'elsewhere' | 'unset' | 'unknown';
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'https://app.example.com/api/webhooks/twilio/sms',
    description:
      "The incoming-message URL Twilio uses for the number (the number's or its service's); null when unset or unknown",
  })
  inboundUrl: string | null;
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
    description:
      "The inbound URL Twilio uses for the number (its SmsUrl, or its Messaging Service's when messagingService.inboundWebhook is 'service') pointed at webhookUrl when last checked; null when unknown",
  })
  webhookConfigured: boolean | null;
  @ApiProperty({
    type: SmsChannelMessagingService,
    nullable: true,
    description:
      'The Messaging Service holding the number (A2P 10DLC), as found at connect; replies are sent through it and opt-outs apply to the whole service. null: none',
  })
  messagingService: SmsChannelMessagingService | null;
  @ApiProperty({
    example: false,
    description:
      'A new Auth Token was given (POST …/auth-token) and waits beside the current one until Twilio signs with it',
  })
  authTokenPending: boolean;
  @ApiProperty({ type: SmsChannelHealth, nullable: true, description: 'null when not connected' })
  health: SmsChannelHealth | null;

  static of(
    channel: SmsChannel | null,
    webhookUrl: string,
    health: StoredHealth | null = channel && storedHealthOf(channel),
  ): SmsChannelStatus {
    const inboundKnown = health && health.inbound !== 'unknown';
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
      webhookConfigured: inboundKnown
        ? health.inbound === 'ours'
        : (channel?.webhookPointsToUs ?? null),
      authTokenPending: Boolean(channel?.pendingAuthTokenEncrypted),
      health: channel && health,
      messagingService: channel?.messagingServiceSid
        ? {
            sid: channel.messagingServiceSid,
            friendlyName: channel.messagingServiceFriendlyName,
            inboundWebhook: channel.messagingServiceInboundWebhook ?? 'number',
            usA2pRegistered: Boolean(channel.messagingServiceUsA2pRegistered),
          }
        : null,
    };
  }
}
