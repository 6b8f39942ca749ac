/**
 * The channel that owns a number, for the webhooks: read through a short per-instance cache, so a
 * busy number costs no query per webhook and junk naming a number costs one query per number per
 * WEBHOOK_MISS_TTL_MS, whatever the volume. A cached row may be stale (another instance's
 * reconnect, disconnect or key rotation): callers either check it is still current in the
 * statement that stores anything (the inbound webhook: SmsChannelSql.stillAsRead), or use `read`,
 * which reads it now.
 */
import { Injectable } from '@nestjs/common';
import { SmsChannelStore, WebhookChannel } from './sms-channel.store';

const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 20_000;
/**
 * How long "no channel for this number" is believed, and how often at most a cached row that does
 * not sign is read again: a miss costs one query per number per this long, whatever the volume.
 */
export const WEBHOOK_MISS_TTL_MS = 5_000;
const MISS_MAX = 50_000;

/** The channel that owns a number (null: none), as read from the database at `readAt`. */
export interface WebhookLookup {
  channel: WebhookChannel | null;
  readAt: number;
}

@Injectable()
export class WebhookChannelLookup {
  private readonly channels = new Map<string, WebhookLookup>();
  /** Numbers with no channel, apart from `channels` so junk cannot evict real rows. */
  private readonly missing = new Map<string, WebhookLookup>();
  /** Reads under way, shared by every request for the same number. */
  private readonly reads = new Map<string, Promise<WebhookLookup>>();
  /** When each number's row was last read again because it did not sign (`recheck`). */
  private readonly rechecks = new Map<string, number>();

  constructor(private readonly store: SmsChannelStore) {}

  /**
   * What this instance read in the last minute (or `maxAgeMs`; that there is none: in the last
   * WEBHOOK_MISS_TTL_MS), else one read shared by every request for that number meanwhile.
   */
  cached(phoneNumber: string, maxAgeMs = CACHE_TTL_MS): Promise<WebhookLookup> {
    const now = Date.now();
    const hit = this.channels.get(phoneNumber);
    if (hit && now - hit.readAt < Math.min(maxAgeMs, CACHE_TTL_MS)) return Promise.resolve(hit);
    const miss = this.missing.get(phoneNumber);
    if (miss && now - miss.readAt < Math.min(maxAgeMs, WEBHOOK_MISS_TTL_MS))
      return Promise.resolve(miss);
    let read = this.reads.get(phoneNumber);
    if (!read) {
      read = this.read(phoneNumber).finally(() => this.reads.delete(phoneNumber));
      this.reads.set(phoneNumber, read);
    }
    return read;
  }

  /**
   * Reads a number's cached row again for a request it did not verify (it may predate a reconnect
   * or a key rotation on another instance): at most once per number per WEBHOOK_MISS_TTL_MS,
   * however many such requests come; in between, the cached lookup answers.
   */
  recheck(phoneNumber: string): Promise<WebhookLookup> {
    const now = Date.now();
    if (now - (this.rechecks.get(phoneNumber) ?? -Infinity) < WEBHOOK_MISS_TTL_MS)
      return this.cached(phoneNumber);
    if (this.rechecks.size >= MISS_MAX) this.rechecks.clear();
    this.rechecks.set(phoneNumber, now);
    return this.cached(phoneNumber, 0);
  }

  /** Reads the number's channel from the database now, and caches what it found. */
  async read(phoneNumber: string): Promise<WebhookLookup> {
    const readAt = Date.now();
    const lookup = { channel: await this.store.findByNumberForWebhook(phoneNumber), readAt };
    const [cache, other, max] = lookup.channel
      ? [this.channels, this.missing, CACHE_MAX]
      : [this.missing, this.channels, MISS_MAX];
    if (cache.size >= max) cache.clear();
    cache.set(phoneNumber, lookup);
    other.delete(phoneNumber);
    return lookup;
  }

  /** Drops what this instance cached of a number (connect, disconnect, a token change). */
  forget(phoneNumber: string): void {
    this.channels.delete(phoneNumber);
    this.missing.delete(phoneNumber);
  }
}
