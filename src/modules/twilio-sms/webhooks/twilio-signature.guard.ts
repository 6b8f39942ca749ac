import {
  CanActivate,
  ExecutionContext,
  Inject,
  Injectable,
  Logger,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import twilio from 'twilio';
import { Errors } from '../../../common/errors/errors';
import { MetricsService } from '../../../common/metrics/metrics.service';
import { E164 } from '../../../common/sms';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { SmsChannelTokens, WebhookChannel, WebhookChannelLookup } from '../../channels';
import { DecryptionError } from '../../crypto';
import { SmsErrorReporter } from '../sms-error-reporter';
import { WebhookFailureLimiter } from './webhook-failure-limiter';

export type SignedRequest = Request & {
  smsChannel?: WebhookChannel;
  body: Record<string, string | string[]>;
};

const OWN_NUMBER_FIELD = 'twilioOwnNumberField';

/**
 * Which form field names our channel's number: `To` on inbound messages, `From` on status
 * callbacks of messages we sent.
 */
export const ChannelNumberField = (field: 'To' | 'From'): MethodDecorator =>
  SetMetadata(OWN_NUMBER_FIELD, field);

const webhookKind = (field: 'To' | 'From') => (field === 'To' ? 'inbound' : 'status');

/** Base64 of an HMAC-SHA1: anything else cannot be Twilio's, and costs no lookup. */
const SIGNATURE = /^[A-Za-z0-9+/]{27}=$/;

/** Why a webhook is refused: the metric's label, and the log line's words. */
const REFUSALS = {
  unsigned: 'unsigned or not a Twilio form post',
  no_channel: 'no connected channel for this number',
  signature_mismatch: 'signature mismatch',
} as const;
type Refusal = keyof typeof REFUSALS;

type Verdict =
  | { signed: true; by: 'current' | 'pending' }
  | { signed: false; reason: Refusal }
  | { signed: false; undecryptable: DecryptionError };

/**
 * Verifies X-Twilio-Signature with the Auth Token of the channel that owns the number (or the new
 * one the customer gave us while rotating it: SmsChannelTokens promotes it on the first request
 * it signs), on the public URL (PUBLIC_BASE_URL + path, never the Host header a proxy rewrote)
 * and the raw form parameters, through the twilio SDK (constant-time comparison). Anything else is a 403 with
 * nothing stored (503 when the channel's token cannot be decrypted: our fault, not the caller's);
 * a correctly signed request is never refused for rate reasons.
 *
 * What a request that fails costs is bounded whatever the volume: the channel row comes from a
 * short cache that also remembers numbers without a channel (WebhookChannelLookup), so junk naming
 * a number costs at most one query per number per WEBHOOK_MISS_TTL_MS; and an address that keeps
 * failing (WEBHOOK_FAILURES_PER_MINUTE) gets 429 for its failures, without a log line each.
 * Its correctly signed requests are still accepted: every tenant's webhooks come from Twilio's
 * few addresses, so one misconfigured customer must not block the others.
 */
@Injectable()
export class TwilioSignatureGuard implements CanActivate {
  private readonly logger = new Logger(TwilioSignatureGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly channels: WebhookChannelLookup,
    private readonly tokens: SmsChannelTokens,
    private readonly failures: WebhookFailureLimiter,
    private readonly reporter: SmsErrorReporter,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<SignedRequest>();
    const field = this.reflector.get<'To' | 'From'>(OWN_NUMBER_FIELD, context.getHandler()) ?? 'To';
    // The inbound webhook stores only if the row it was verified with is still current (its
    // statement checks: SmsChannelSql.stillAsRead), so a cached row may verify it; a status
    // callback stores without that check, so only a row read now verifies it.
    if (field === 'To') await this.verifyWithCachedRow(request, field);
    else await this.verifyWithCurrentRow(request, field);
    return true;
  }

  /**
   * Verifies the request with the channel row this instance read up to a minute ago, and sets
   * request.smsChannel: the caller must check the row is still current where it stores, and on a
   * stale row call verifyWithCurrentRow.
   */
  verifyWithCachedRow(request: SignedRequest, field: 'To' | 'From'): Promise<WebhookChannel> {
    return this.verify(request, field, 'cached');
  }

  /** Verifies the request with the channel row read now (the cache takes it), and sets request.smsChannel. */
  verifyWithCurrentRow(request: SignedRequest, field: 'To' | 'From'): Promise<WebhookChannel> {
    return this.verify(request, field, 'current');
  }

  private async verify(
    request: SignedRequest,
    field: 'To' | 'From',
    rowRead: 'cached' | 'current',
  ): Promise<WebhookChannel> {
    const params = request.body && typeof request.body === 'object' ? request.body : {};
    const signature = request.headers['x-twilio-signature'];
    const number = params[field];
    if (
      typeof signature !== 'string' ||
      !SIGNATURE.test(signature) ||
      typeof number !== 'string' ||
      !E164.test(number) ||
      !request.is('application/x-www-form-urlencoded')
    ) {
      return this.refuse(request, field, 'unsigned', number);
    }
    const url = `${this.config.publicBaseUrl}${request.originalUrl}`;
    const started = Date.now();
    let lookup = await this.channels.cached(number);
    let verdict = this.check(lookup.channel, signature, url, params);
    if (verdict.signed && verdict.by === 'pending') {
      // The customer promoted the token they gave us: Twilio signs with it now, and the old one
      // no longer works anywhere. Promote it here too, then go on with the row as it now is.
      await this.tokens.promote(lookup.channel as WebhookChannel);
      lookup = await this.channels.read(number);
      verdict = this.check(lookup.channel, signature, url, params);
    } else if (verdict.signed && rowRead === 'current') {
      lookup = await this.channels.read(number);
      verdict = this.check(lookup.channel, signature, url, params);
    } else if (!verdict.signed && lookup.channel && lookup.readAt < started) {
      // A row read before this request that does not sign may predate a reconnect or a key
      // rotation on another instance: read it again (at most once per number per
      // WEBHOOK_MISS_TTL_MS, so junk naming the number cannot make every request a query).
      lookup = await this.channels.recheck(number);
      verdict = this.check(lookup.channel, signature, url, params);
    }
    if (verdict.signed) {
      request.smsChannel = lookup.channel as WebhookChannel;
      return lookup.channel as WebhookChannel;
    }
    if ('undecryptable' in verdict) {
      // Our fault, not the caller's: not counted as a failure. Reported once a minute per channel.
      const channel = lookup.channel as WebhookChannel;
      this.metrics.webhookRefused(webhookKind(field), 'credentials_unreadable');
      this.reporter.captureOncePerMinute(`undecryptable:${channel.id}`, verdict.undecryptable, {
        chatbotId: channel.chatbotId,
        channelId: channel.id,
      });
      throw Errors.channelCredentialsUnreadable();
    }
    return this.refuse(request, field, verdict.reason, number);
  }

  private check(
    channel: WebhookChannel | null,
    signature: string,
    url: string,
    params: SignedRequest['body'],
  ): Verdict {
    if (!channel || channel.accountSid !== params.AccountSid)
      return { signed: false, reason: 'no_channel' };
    try {
      const by = this.tokens.whichSigns(channel, (credentials) =>
        twilio.validateRequest(credentials.authToken.reveal(), signature, url, params),
      );
      return by ? { signed: true, by } : { signed: false, reason: 'signature_mismatch' };
    } catch (error) {
      if (error instanceof DecryptionError) return { signed: false, undecryptable: error };
      throw error;
    }
  }

  private refuse(
    request: SignedRequest,
    field: 'To' | 'From',
    reason: Refusal,
    number: unknown,
  ): never {
    const wait = this.failures.fail(request.ip);
    this.metrics.webhookRefused(webhookKind(field), wait > 0 ? 'rate_limited' : reason);
    if (wait > 0) throw Errors.tooManyWebhookFailures(wait);
    // Expected noise (scanners, misconfigured numbers): a log line, not a Sentry event.
    this.logger.warn(
      { reason: REFUSALS[reason], number: typeof number === 'string' ? number : undefined },
      'Twilio webhook refused',
    );
    const blockedFor = this.failures.blockedFor(request.ip);
    if (blockedFor > 0)
      this.logger.warn(
        { address: request.ip, seconds: blockedFor },
        'Twilio webhook failures from one address: its failing requests get 429 for now',
      );
    throw Errors.twilioSignatureInvalid();
  }
}
