import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { CredentialCipher } from '../crypto/credential-cipher';
import { associatedDataFor } from '../crypto/encrypted-columns';
import { Secret } from '../crypto/secret';
import type { TwilioCredentials } from '../twilio-sms/api/twilio-rest.adapter';
import { SmsChannel } from './sms-channel.entity';

export const WEBHOOK_PATH = '/api/webhooks/twilio/sms';
export const STATUS_CALLBACK_PATH = '/api/webhooks/twilio/sms/status';

const TOKEN_CACHE_TTL_MS = 5 * 60_000;
const TOKEN_CACHE_MAX = 10_000;

export const authTokenAad = (channelId: string): string =>
  associatedDataFor('sms_channels', channelId, 'auth_token_encrypted');

/**
 * Lookups and bookkeeping for SMS channels. Decrypted tokens are cached briefly, keyed by the
 * ciphertext itself: a reconnect writes a new ciphertext and a disconnect deletes the row, so a
 * stale token can never be served from the cache on any instance.
 */
@Injectable()
export class SmsChannelsService {
  private readonly tokens = new Map<string, { token: Secret; expiresAt: number }>();

  constructor(
    @InjectRepository(SmsChannel) private readonly channels: Repository<SmsChannel>,
    private readonly cipher: CredentialCipher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get webhookUrl(): string {
    return `${this.config.publicBaseUrl}${WEBHOOK_PATH}`;
  }

  get statusCallbackUrl(): string {
    return `${this.config.publicBaseUrl}${STATUS_CALLBACK_PATH}`;
  }

  findForChatbot(organizationId: string, chatbotId: string): Promise<SmsChannel | null> {
    return this.channels.findOneBy({ organizationId, chatbotId });
  }

  findByPhoneNumber(phoneNumber: string): Promise<SmsChannel | null> {
    return this.channels.findOneBy({ phoneNumber });
  }

  findById(id: string): Promise<SmsChannel | null> {
    return this.channels.findOneBy({ id });
  }

  credentials(
    channel: Pick<SmsChannel, 'id' | 'accountSid' | 'authTokenEncrypted'>,
  ): TwilioCredentials {
    const now = Date.now();
    const cached = this.tokens.get(channel.authTokenEncrypted);
    if (cached && cached.expiresAt > now)
      return { accountSid: channel.accountSid, authToken: cached.token };
    const token = this.cipher.decrypt(channel.authTokenEncrypted, authTokenAad(channel.id));
    if (this.tokens.size >= TOKEN_CACHE_MAX) this.tokens.clear();
    this.tokens.set(channel.authTokenEncrypted, { token, expiresAt: now + TOKEN_CACHE_TTL_MS });
    return { accountSid: channel.accountSid, authToken: token };
  }

  /** Drops a channel's cached token (disconnect, reconnect). */
  forget(channel: Pick<SmsChannel, 'authTokenEncrypted'>): void {
    this.tokens.delete(channel.authTokenEncrypted);
  }

  async recordInbound(channelId: string, at = new Date()): Promise<void> {
    await this.channels.update({ id: channelId }, { lastInboundAt: at });
  }

  async recordOutbound(channelId: string, at = new Date()): Promise<void> {
    await this.channels.update({ id: channelId }, { lastOutboundAt: at });
  }

  async recordError(channelId: string, reason: string, at = new Date()): Promise<void> {
    await this.channels.update(
      { id: channelId },
      { lastError: reason.slice(0, 500), lastErrorAt: at },
    );
  }
}
