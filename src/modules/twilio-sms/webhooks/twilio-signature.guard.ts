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
import { DomainError } from '../../../common/errors/domain-error';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { SmsChannelsService, WebhookChannel } from '../../channels/sms-channels.service';

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

const forbidden = () =>
  new DomainError('TWILIO_SIGNATURE_INVALID', 'Twilio signature missing or invalid');

/**
 * Verifies X-Twilio-Signature with the Auth Token of the channel that owns the number, on the
 * public URL (PUBLIC_BASE_URL + path, never the Host header a proxy rewrote) and the raw form
 * parameters, through the twilio SDK (constant-time comparison). Anything else is a 403 with
 * nothing stored. The inbound webhook reads the channel through a short cache whose row it
 * re-checks when it stores (see verify); the status callback always reads the database.
 */
@Injectable()
export class TwilioSignatureGuard implements CanActivate {
  private readonly logger = new Logger(TwilioSignatureGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly channels: SmsChannelsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<SignedRequest>();
    const field = this.reflector.get<'To' | 'From'>(OWN_NUMBER_FIELD, context.getHandler()) ?? 'To';
    await this.verify(request, field, field === 'To');
    return true;
  }

  /**
   * Verifies the request and sets request.smsChannel. `cached` may use a channel row read up to a
   * minute ago: the caller must then check the row is still current where it stores, and on a
   * stale row call verify again with `cached` false (a cached token that no longer signs is
   * re-read here at once).
   */
  async verify(
    request: SignedRequest,
    field: 'To' | 'From',
    cached: boolean,
  ): Promise<WebhookChannel> {
    const params = request.body && typeof request.body === 'object' ? request.body : {};
    const signature = request.headers['x-twilio-signature'];
    const number = params[field];
    if (
      typeof signature !== 'string' ||
      typeof number !== 'string' ||
      !/^\+[1-9]\d{6,14}$/.test(number) ||
      !request.is('application/x-www-form-urlencoded')
    ) {
      this.reject('unsigned or not a Twilio form post', number);
    }
    const url = `${this.config.publicBaseUrl}${request.originalUrl}`;
    const signs = (candidate: WebhookChannel | null): candidate is WebhookChannel =>
      candidate !== null &&
      candidate.accountSid === params.AccountSid &&
      twilio.validateRequest(
        this.channels.credentials(candidate).authToken.reveal(),
        signature as string,
        url,
        params,
      );
    let channel = await this.channels.findForWebhook(number as string, cached);
    let valid = signs(channel);
    // A cached row that does not sign may predate a reconnect: read it again before refusing.
    if (!valid && cached && channel) {
      channel = await this.channels.findForWebhook(number as string, false);
      valid = signs(channel);
    }
    if (!channel || channel.accountSid !== params.AccountSid)
      this.reject('no connected channel for this number', number);
    if (!valid) this.reject('signature mismatch', number);
    request.smsChannel = channel;
    return channel;
  }

  private reject(reason: string, number: unknown): never {
    // Expected noise (scanners, misconfigured numbers): a log line, not a Sentry event.
    this.logger.warn(
      { reason, number: typeof number === 'string' ? number : undefined },
      'Twilio webhook refused',
    );
    throw forbidden();
  }
}
