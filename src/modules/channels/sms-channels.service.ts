import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { PreparedStatement, PreparedStatements } from '../../database/prepared-statements';
import { CredentialCipher } from '../crypto/credential-cipher';
import { associatedDataFor } from '../crypto/encrypted-columns';
import { Secret } from '../crypto/secret';
import type { TwilioCredentials } from '../twilio-sms/api/twilio-rest.adapter';
import { SmsChannel } from './sms-channel.entity';

export const WEBHOOK_PATH = '/api/webhooks/twilio/sms';
export const STATUS_CALLBACK_PATH = '/api/webhooks/twilio/sms/status';
/**
 * The query parameter of our StatusCallback URLs naming the outbound message: Twilio posts to the
 * exact URL and signs it, query included, so a callback that beats Messages.create's answer still
 * finds its message.
 */
export const STATUS_CALLBACK_MESSAGE_ID = 'messageId';

const TOKEN_CACHE_TTL_MS = 5 * 60_000;
const TOKEN_CACHE_MAX = 10_000;
const WEBHOOK_CACHE_TTL_MS = 60_000;
const WEBHOOK_CACHE_MAX = 20_000;

const CHANNEL_BY_NUMBER: PreparedStatement = {
  name: 'sms-channel-by-number',
  text: `SELECT id, organization_id AS "organizationId", chatbot_id AS "chatbotId",
      account_sid AS "accountSid", phone_number AS "phoneNumber",
      auth_token_encrypted AS "authTokenEncrypted"
    FROM sms_channels WHERE phone_number = $1`,
};

/** What the webhooks need of a channel: one indexed row, no entity hydration. */
export type WebhookChannel = Pick<
  SmsChannel,
  'id' | 'organizationId' | 'chatbotId' | 'accountSid' | 'phoneNumber' | 'authTokenEncrypted'
>;

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
  private readonly webhookChannels = new Map<
    string,
    { channel: WebhookChannel; expiresAt: number }
  >();

  constructor(
    @InjectRepository(SmsChannel) private readonly channels: Repository<SmsChannel>,
    private readonly cipher: CredentialCipher,
    private readonly statements: PreparedStatements,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get webhookUrl(): string {
    return `${this.config.publicBaseUrl}${WEBHOOK_PATH}`;
  }

  statusCallbackUrlFor(messageId: string): string {
    const query = new URLSearchParams({ [STATUS_CALLBACK_MESSAGE_ID]: messageId });
    return `${this.config.publicBaseUrl}${STATUS_CALLBACK_PATH}?${query}`;
  }

  findForChatbot(organizationId: string, chatbotId: string): Promise<SmsChannel | null> {
    return this.channels.findOneBy({ organizationId, chatbotId });
  }

  /**
   * The channel that owns a number, for the webhooks. With `cached`, a row read in the last minute
   * may be served from memory: only for a caller that checks it is still current in the same
   * statement that stores anything (the inbound webhook compares id, number and ciphertext), so a
   * disconnect, a reconnect or a key rotation on any instance takes effect at once.
   */
  async findForWebhook(phoneNumber: string, cached: boolean): Promise<WebhookChannel | null> {
    const now = Date.now();
    if (cached) {
      const hit = this.webhookChannels.get(phoneNumber);
      if (hit && hit.expiresAt > now) return hit.channel;
    }
    const rows = await this.statements.query<WebhookChannel>(CHANNEL_BY_NUMBER, [phoneNumber]);
    const channel = rows[0] ?? null;
    if (channel) {
      if (this.webhookChannels.size >= WEBHOOK_CACHE_MAX) this.webhookChannels.clear();
      this.webhookChannels.set(phoneNumber, { channel, expiresAt: now + WEBHOOK_CACHE_TTL_MS });
    } else {
      this.webhookChannels.delete(phoneNumber);
    }
    return channel;
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

  /** Drops what this instance cached of a channel (disconnect, reconnect). */
  forget(channel: Pick<SmsChannel, 'authTokenEncrypted' | 'phoneNumber'>): void {
    this.tokens.delete(channel.authTokenEncrypted);
    this.webhookChannels.delete(channel.phoneNumber);
  }

  async recordError(channelId: string, reason: string, at = new Date()): Promise<void> {
    await this.channels.update(
      { id: channelId },
      { lastError: reason.slice(0, 500), lastErrorAt: at },
    );
  }
}
