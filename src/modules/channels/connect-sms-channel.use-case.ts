/**
 * Connect (or reconnect) a chatbot's SMS channel: plan check, live probe of the customer's Twilio
 * account, then one transaction that stores the encrypted token and, when asked, points the
 * number's webhook at us. Nothing is stored unless every check passed.
 */
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, QueryFailedError } from 'typeorm';
import { DomainError } from '../../common/errors/domain-error';
import { ChatbotsService } from '../agent/chatbots.service';
import { CredentialCipher } from '../crypto/credential-cipher';
import { Secret } from '../crypto/secret';
import { Organization, planIncludesIntegrations } from '../organizations/organization.entity';
import { TwilioApiError } from '../twilio-sms/api/twilio-api.error';
import {
  TwilioCredentials,
  TwilioIncomingNumber,
  TwilioRestAdapter,
} from '../twilio-sms/api/twilio-rest.adapter';
import { inboundRouteOf } from './channel-health.service';
import { ConnectSmsChannelDto } from './dto/sms-channel.dto';
import { SmsChannelTokens } from './sms-channel-tokens';
import { SmsChannel } from './sms-channel.entity';
import { authTokenAad, SmsChannelsService } from './sms-channels.service';

const UNIQUE_VIOLATION = '23505';

const healthInboundOf = (route: ReturnType<typeof inboundRouteOf>): Partial<SmsChannel> => ({
  healthInbound: route.inbound,
  healthInboundUrl: route.inboundUrl,
});

/** How a failed Twilio call reads to the customer (messages fixed by the contract). */
export function probeFailure(error: TwilioApiError): DomainError {
  if (error.isAuthenticationFailure) {
    return new DomainError(
      'TWILIO_CREDENTIALS_REJECTED',
      'Twilio rejected the credentials',
      undefined,
      { cause: error },
    );
  }
  if (error.transient) {
    return new DomainError('TWILIO_UNREACHABLE', "Couldn't reach Twilio right now", undefined, {
      cause: error,
    });
  }
  return new DomainError(
    'TWILIO_REQUEST_REJECTED',
    `Twilio refused the request: ${error.reason}`,
    undefined,
    { cause: error },
  );
}

const alreadyConnected = (): DomainError =>
  new DomainError(
    'NUMBER_ALREADY_CONNECTED',
    'This number is already connected to another chatbot; disconnect it there first',
  );

@Injectable()
export class ConnectSmsChannelUseCase {
  private readonly logger = new Logger(ConnectSmsChannelUseCase.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly chatbots: ChatbotsService,
    private readonly channels: SmsChannelsService,
    private readonly twilio: TwilioRestAdapter,
    private readonly cipher: CredentialCipher,
    private readonly tokens: SmsChannelTokens,
  ) {}

  async execute(
    organization: Organization,
    chatbotId: string,
    dto: ConnectSmsChannelDto,
  ): Promise<SmsChannel> {
    await this.chatbots.get(organization.id, chatbotId);
    if (!planIncludesIntegrations(organization.plan)) {
      throw new DomainError(
        'PLAN_UPGRADE_REQUIRED',
        `The SMS channel needs the Starter plan or above; this organization is on ${organization.plan}`,
      );
    }
    const credentials: TwilioCredentials = {
      accountSid: dto.accountSid,
      authToken: new Secret(dto.authToken),
    };
    const { number, accountType } = await this.probe(credentials, dto.phoneNumber);
    const channel = await this.store(
      organization,
      chatbotId,
      dto,
      credentials,
      number,
      accountType,
    );
    this.logger.log({ channelId: channel.id, chatbotId, accountType }, 'SMS channel connected');
    return channel;
  }

  /** Credentials work, the account is active, the number is the account's and can text. */
  private async probe(
    credentials: TwilioCredentials,
    phoneNumber: string,
  ): Promise<{ number: TwilioIncomingNumber; accountType: string }> {
    try {
      const account = await this.twilio.fetchAccount(credentials);
      if (account.status !== 'active') {
        throw new DomainError(
          'TWILIO_ACCOUNT_NOT_ACTIVE',
          `This Twilio account is ${account.status}; reactivate it in the Twilio Console first`,
        );
      }
      const number = await this.twilio.findIncomingNumber(credentials, phoneNumber);
      // Twilio's PhoneNumber filter also matches partial numbers; only an exact match counts.
      if (!number || number.phoneNumber !== phoneNumber) {
        throw new DomainError(
          'TWILIO_NUMBER_NOT_OWNED',
          "The phone number you entered doesn't belong to this Twilio account",
        );
      }
      if (!number.smsCapable) {
        throw new DomainError(
          'TWILIO_NUMBER_NOT_SMS_CAPABLE',
          'This Twilio number cannot send or receive SMS',
        );
      }
      return { number, accountType: account.type };
    } catch (error) {
      if (error instanceof TwilioApiError) throw probeFailure(error);
      throw error;
    }
  }

  private async store(
    organization: Organization,
    chatbotId: string,
    dto: ConnectSmsChannelDto,
    credentials: TwilioCredentials,
    number: TwilioIncomingNumber,
    accountType: string,
  ): Promise<SmsChannel> {
    const webhookUrl = this.channels.webhookUrl;
    let pointedAtUs = false;
    try {
      const channel = await this.dataSource.transaction(async (manager) => {
        const repository = manager.getRepository(SmsChannel);
        const existing = await repository.findOne({
          where: { chatbotId },
          lock: { mode: 'pessimistic_write' },
        });
        const holder = await repository.findOneBy({ phoneNumber: dto.phoneNumber });
        if (holder && holder.chatbotId !== chatbotId) throw alreadyConnected();
        const id = existing?.id ?? randomUUID();
        const sameNumber =
          existing?.phoneNumber === dto.phoneNumber && existing.accountSid === dto.accountSid;
        const values: Partial<SmsChannel> = {
          id,
          organizationId: organization.id,
          chatbotId,
          accountSid: dto.accountSid,
          authTokenEncrypted: this.cipher.encrypt(credentials.authToken, authTokenAad(id)),
          phoneNumber: dto.phoneNumber,
          phoneNumberSid: number.sid,
          friendlyName: dto.friendlyName ?? null,
          accountType,
          webhookConfiguredByUs:
            Boolean(dto.configureWebhook) ||
            (sameNumber && Boolean(existing?.webhookConfiguredByUs)),
          webhookPointsToUs: number.smsUrl === webhookUrl,
          // A reconnect replaces every token, a pending one too; the probe was a check.
          pendingAuthTokenEncrypted: null,
          healthCheckedAt: new Date(),
          healthCredentials: 'valid',
          healthNumber: 'present',
          ...healthInboundOf(inboundRouteOf(number, webhookUrl)),
          healthReportedProblem: null,
          connectedAt: new Date(),
          lastError: null,
          lastErrorAt: null,
        };
        if (existing) this.channels.forget(existing);
        await repository.save(repository.create(values));
        // Last step before commit, after every check the database can make: if Twilio refuses,
        // the transaction rolls back and nothing is stored.
        if (dto.configureWebhook && !values.webhookPointsToUs) {
          const updated = await this.twilio
            .updateSmsUrl(credentials, number.sid, webhookUrl)
            .catch((error: TwilioApiError) => {
              throw probeFailure(error);
            });
          pointedAtUs = true;
          await repository.update(
            { id },
            {
              webhookPointsToUs: updated.smsUrl === webhookUrl,
              ...healthInboundOf(inboundRouteOf(updated, webhookUrl)),
            },
          );
        }
        return repository.findOneByOrFail({ id });
      });
      // After the commit: a webhook meanwhile may have cached "no channel" for the number.
      this.channels.forget(channel);
      // Replies held while Twilio rejected the old token go out with the new one.
      await this.tokens.releaseHeldReplies(channel.id);
      return channel;
    } catch (error) {
      // The commit failed after Twilio was changed: put the customer's setting back.
      if (pointedAtUs) await this.restoreSmsUrl(credentials, number);
      if (
        error instanceof QueryFailedError &&
        (error as { code?: string }).code === UNIQUE_VIOLATION
      ) {
        throw alreadyConnected();
      }
      throw error;
    }
  }

  private async restoreSmsUrl(credentials: TwilioCredentials, number: TwilioIncomingNumber) {
    await this.twilio.updateSmsUrl(credentials, number.sid, number.smsUrl ?? '').catch((error) => {
      this.logger.warn({ err: error }, 'could not restore the SmsUrl after a failed connect');
    });
  }
}
