/**
 * A channel's Auth Tokens: the current one (decrypted on demand and kept briefly) and, while the
 * customer rotates theirs (auth-token-rotation.use-case.ts), the pending one beside it. Every REST
 * call and every signature check goes through here, so one rule decides which token is used and
 * when the new one takes over: the first webhook it signs, or the first REST call where the old
 * one is rejected and the new one is accepted, promotes it and erases the old ciphertext in the
 * same statement. A promotion tells SmsChannelEvents the credentials work again.
 */
import { Injectable, Logger } from '@nestjs/common';
import { Secret } from '../../common/secret';
import { CredentialCipher, associatedDataFor } from '../crypto';
import { TwilioApiError, type TwilioCredentials } from '../twilio-sms';
import type { SmsChannel } from './sms-channel.entity';
import { SmsChannelEvents } from './sms-channel-events';
import { SmsChannelStore } from './sms-channel.store';
import { WebhookChannelLookup } from './webhook-channel-lookup';

const DECRYPTED_TTL_MS = 5 * 60_000;
const DECRYPTED_MAX = 10_000;

export const authTokenAad = (channelId: string): string =>
  associatedDataFor('sms_channels', channelId, 'auth_token_encrypted');

export const pendingAuthTokenAad = (channelId: string): string =>
  associatedDataFor('sms_channels', channelId, 'pending_auth_token_encrypted');

/** What the token rules need of a channel row. */
export type TokenChannel = Pick<
  SmsChannel,
  'id' | 'accountSid' | 'phoneNumber' | 'authTokenEncrypted' | 'pendingAuthTokenEncrypted'
>;

/**
 * Decrypted tokens are cached briefly, keyed by the ciphertext itself: a reconnect writes a new
 * ciphertext and a disconnect deletes the row, so a stale token can never be served from the cache
 * on any instance.
 */
@Injectable()
export class SmsChannelTokens {
  private readonly logger = new Logger(SmsChannelTokens.name);
  private readonly decrypted = new Map<string, { token: Secret; expiresAt: number }>();

  constructor(
    private readonly store: SmsChannelStore,
    private readonly lookup: WebhookChannelLookup,
    private readonly cipher: CredentialCipher,
    private readonly events: SmsChannelEvents,
  ) {}

  /** The current token's credentials (DecryptionError when the ciphertext cannot be read). */
  current(
    channel: Pick<SmsChannel, 'id' | 'accountSid' | 'authTokenEncrypted'>,
  ): TwilioCredentials {
    const now = Date.now();
    const cached = this.decrypted.get(channel.authTokenEncrypted);
    if (cached && cached.expiresAt > now)
      return { accountSid: channel.accountSid, authToken: cached.token };
    const token = this.cipher.decrypt(channel.authTokenEncrypted, authTokenAad(channel.id));
    if (this.decrypted.size >= DECRYPTED_MAX) this.decrypted.clear();
    this.decrypted.set(channel.authTokenEncrypted, { token, expiresAt: now + DECRYPTED_TTL_MS });
    return { accountSid: channel.accountSid, authToken: token };
  }

  /** The pending token's credentials, or null when none is stored. */
  pending(channel: TokenChannel): TwilioCredentials | null {
    if (!channel.pendingAuthTokenEncrypted) return null;
    return {
      accountSid: channel.accountSid,
      authToken: this.cipher.decrypt(
        channel.pendingAuthTokenEncrypted,
        pendingAuthTokenAad(channel.id),
      ),
    };
  }

  /** The ciphertext connect stores for a channel's token. */
  encryptCurrent(channelId: string, token: Secret): string {
    return this.cipher.encrypt(token, authTokenAad(channelId));
  }

  /** Drops what this instance keeps of a channel: its decrypted token and its number's cached row. */
  forget(channel: Pick<SmsChannel, 'authTokenEncrypted' | 'phoneNumber'>): void {
    this.decrypted.delete(channel.authTokenEncrypted);
    this.lookup.forget(channel.phoneNumber);
  }

  async storePending(
    channel: TokenChannel & { organizationId: string },
    token: Secret,
  ): Promise<boolean> {
    const stored = await this.store.storePendingToken({
      id: channel.id,
      organizationId: channel.organizationId,
      ciphertext: this.cipher.encrypt(token, pendingAuthTokenAad(channel.id)),
    });
    this.forget(channel);
    return stored;
  }

  /** False when no pending token was stored. */
  async cancelPending(channel: TokenChannel & { organizationId: string }): Promise<boolean> {
    const cancelled = await this.store.cancelPendingToken(channel);
    this.forget(channel);
    return cancelled;
  }

  /** Which stored token `accepts` (e.g. a signature check) takes: the current one first. */
  whichSigns(
    channel: TokenChannel,
    accepts: (credentials: TwilioCredentials) => boolean,
  ): 'current' | 'pending' | null {
    if (accepts(this.current(channel))) return 'current';
    const pending = this.pending(channel);
    return pending && accepts(pending) ? 'pending' : null;
  }

  /**
   * Runs a Twilio call with the current token; if Twilio rejects it and a pending token is stored,
   * with the pending one, which is promoted when Twilio accepts it (the customer promoted it in
   * Twilio, so the old one will never work again).
   */
  async call<T>(
    channel: TokenChannel,
    action: (credentials: TwilioCredentials) => Promise<T>,
  ): Promise<T> {
    try {
      return await action(this.current(channel));
    } catch (error) {
      const pending = this.pending(channel);
      if (!(error instanceof TwilioApiError) || !error.isAuthenticationFailure || !pending)
        throw error;
      const result = await action(pending);
      // Twilio acted: a failed promotion must not make the caller think it did not (a send would
      // be repeated). The next call or webhook promotes again.
      await this.promote(channel).catch((promotion: unknown) => {
        this.logger.warn(
          { err: promotion, channelId: channel.id },
          'could not promote the new Auth Token',
        );
      });
      return result;
    }
  }

  /** Makes the pending token the only one; false if it changed meanwhile. */
  async promote(channel: TokenChannel): Promise<boolean> {
    const pending = this.pending(channel);
    if (!pending || !channel.pendingAuthTokenEncrypted) return false;
    const promoted = await this.store.promotePendingToken({
      id: channel.id,
      pendingCiphertext: channel.pendingAuthTokenEncrypted,
      currentCiphertext: this.encryptCurrent(channel.id, pending.authToken),
    });
    this.forget(channel);
    if (!promoted) return false;
    this.logger.log({ channelId: channel.id }, 'new Auth Token promoted; the old one is erased');
    await this.events.credentialsAccepted(channel.id);
    return true;
  }
}
