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
import { SmsChannel } from '../../channels/sms-channel.entity';
import { SmsChannelsService } from '../../channels/sms-channels.service';

export type SignedRequest = Request & {
  smsChannel?: SmsChannel;
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
 * nothing stored.
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
    const channel = await this.channels.findByPhoneNumber(number as string);
    if (!channel || channel.accountSid !== params.AccountSid)
      this.reject('no connected channel for this number', number);
    const url = `${this.config.publicBaseUrl}${request.originalUrl}`;
    const token = this.channels.credentials(channel as SmsChannel).authToken;
    if (!twilio.validateRequest(token.reveal(), signature as string, url, params)) {
      this.reject('signature mismatch', number);
    }
    request.smsChannel = channel as SmsChannel;
    return true;
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
