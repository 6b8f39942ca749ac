import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { STATUS_CALLBACK_PATH, WEBHOOK_PATH } from '../../common/sms';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { PreparedStatement, PreparedStatements } from '../../database/prepared-statements';
import { CredentialCipher, associatedDataFor, Secret } from '../crypto';
import type { TwilioCredentials } from '../twilio-sms';
import { SmsChannel } from './sms-channel.entity';

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
/**
 * How long "no channel for this number" is believed, and how often at most a cached row that does
 * not sign is read again: a miss costs one query per number per this long, whatever the volume.
 */
export const WEBHOOK_MISS_TTL_MS = 5_000;
const WEBHOOK_MISS_MAX = 50_000;

const CHANNEL_BY_NUMBER: PreparedStatement = {
  name: 'sms-channel-by-number',
  text: `SELECT id, organization_id AS "organizationId", chatbot_id AS "chatbotId",
      account_sid AS "accountSid", phone_number AS "phoneNumber",
      auth_token_encrypted AS "authTokenEncrypted",
      pending_auth_token_encrypted AS "pendingAuthTokenEncrypted",
      messaging_service_sid AS "messagingServiceSid"
    FROM sms_channels WHERE phone_number = $1`,
};

/** What the webhooks need of a channel: one indexed row, no entity hydration. */
export type WebhookChannel = Pick<
  SmsChannel,
  | 'id'
  | 'organizationId'
  | 'chatbotId'
  | 'accountSid'
  | 'phoneNumber'
  | 'authTokenEncrypted'
  | 'messagingServiceSid'
  | 'pendingAuthTokenEncrypted'
>;

/** The channel that owns a number (null: none), as read from the database at `readAt`. */
export interface WebhookLookup {
  channel: WebhookChannel | null;
  readAt: number;
}

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
  private readonly webhookChannels = new Map<string, WebhookLookup>();
  /** Numbers with no channel, apart from webhookChannels so junk cannot evict real rows. */
  private readonly missingNumbers = new Map<string, WebhookLookup>();
  /** Reads under way, shared by every request for the same number. */
  private readonly reads = new Map<string, Promise<WebhookLookup>>();
  /** When each number's row was last read again because it did not sign (recheckForWebhook). */
  private readonly rechecks = new Map<string, number>();

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
   * The channel that owns a number, for the webhooks: what this instance read in the last minute
   * (or `maxAgeMs`; that there is none: in the last WEBHOOK_MISS_TTL_MS), else one read shared by
   * every request for that number meanwhile. A cached row may be stale: only for callers that
   * check it is still current in the statement that stores anything (the inbound webhook compares
   * id, number and ciphertext), or that read it again before they accept (readForWebhook).
   */
  lookupForWebhook(phoneNumber: string, maxAgeMs = WEBHOOK_CACHE_TTL_MS): Promise<WebhookLookup> {
    const now = Date.now();
    const hit = this.webhookChannels.get(phoneNumber);
    if (hit && now - hit.readAt < Math.min(maxAgeMs, WEBHOOK_CACHE_TTL_MS))
      return Promise.resolve(hit);
    const miss = this.missingNumbers.get(phoneNumber);
    if (miss && now - miss.readAt < Math.min(maxAgeMs, WEBHOOK_MISS_TTL_MS))
      return Promise.resolve(miss);
    let read = this.reads.get(phoneNumber);
    if (!read) {
      read = this.readForWebhook(phoneNumber).finally(() => this.reads.delete(phoneNumber));
      this.reads.set(phoneNumber, read);
    }
    return read;
  }

  /**
   * Reads a number's cached row again for a request it did not verify (it may predate a reconnect
   * or a key rotation on another instance): at most once per number per WEBHOOK_MISS_TTL_MS,
   * however many such requests come; in between, the cached lookup answers.
   */
  recheckForWebhook(phoneNumber: string): Promise<WebhookLookup> {
    const now = Date.now();
    if (now - (this.rechecks.get(phoneNumber) ?? -Infinity) < WEBHOOK_MISS_TTL_MS)
      return this.lookupForWebhook(phoneNumber);
    if (this.rechecks.size >= WEBHOOK_MISS_MAX) this.rechecks.clear();
    this.rechecks.set(phoneNumber, now);
    return this.lookupForWebhook(phoneNumber, 0);
  }

  /** Reads the number's channel from the database now, and caches what it found. */
  async readForWebhook(phoneNumber: string): Promise<WebhookLookup> {
    const readAt = Date.now();
    const rows = await this.statements.query<WebhookChannel>(CHANNEL_BY_NUMBER, [phoneNumber]);
    const lookup = { channel: rows[0] ?? null, readAt };
    const [cache, other, max] = lookup.channel
      ? [this.webhookChannels, this.missingNumbers, WEBHOOK_CACHE_MAX]
      : [this.missingNumbers, this.webhookChannels, WEBHOOK_MISS_MAX];
    if (cache.size >= max) cache.clear();
    cache.set(phoneNumber, lookup);
    other.delete(phoneNumber);
    return lookup;
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

  /** Drops what this instance cached of a channel and its number (connect, disconnect). */
  forget(channel: Pick<SmsChannel, 'authTokenEncrypted' | 'phoneNumber'>): void {
    this.tokens.delete(channel.authTokenEncrypted);
    this.webhookChannels.delete(channel.phoneNumber);
    this.missingNumbers.delete(channel.phoneNumber);
  }

  /** Whether a connected channel (any organization's) sends through this Messaging Service. */
  async isMessagingServiceConnected(messagingServiceSid: string): Promise<boolean> {
    return this.channels.existsBy({ messagingServiceSid });
  }

  async recordError(channelId: string, reason: string, at = new Date()): Promise<void> {
    await this.channels.update(
      { id: channelId },
      { lastError: reason.slice(0, 500), lastErrorAt: at },
    );
  }
}
