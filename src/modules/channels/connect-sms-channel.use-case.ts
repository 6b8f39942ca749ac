/**
 * Connect (or reconnect) a chatbot's SMS channel: plan check, live probe of the customer's Twilio
 * account (the number, and the Messaging Service holding it), then one transaction that stores
 * the encrypted token and, when asked, points the inbound URL Twilio reads for the number at us:
 * the number's SmsUrl, or its service's InboundRequestUrl when the service does not defer to its
 * numbers. Nothing is stored, and nothing changed in Twilio, unless every check passed.
 */
import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Errors } from '../../common/errors/errors';
import { isUniqueViolation } from '../../database/pg-errors';
import { Transaction, Transactions } from '../../database/transactions';
import { ChatbotsService } from '../agent';
import { Secret } from '../../common/secret';
import { Organization, planIncludesIntegrations } from '../organizations';
import {
  TwilioCredentials,
  TwilioIncomingNumber,
  TwilioMessagingServicePool,
  TwilioRestAdapter,
} from '../twilio-sms';
import { ConnectSmsChannelDto } from './dto/sms-channel.dto';
import {
  assertMayConfigure,
  InboundWebhook,
  inboundRouteOf,
  inboundWebhookOf,
} from './inbound-route';
import { SmsChannelEvents } from './sms-channel-events';
import { SmsChannelTokens } from './sms-channel-tokens';
import { SmsChannel } from './sms-channel.entity';
import { ReplacedInboundUrl, SmsChannelStore } from './sms-channel.store';
import { SmsWebhookUrls } from './sms-webhook-urls';

const healthInboundOf = (route: ReturnType<typeof inboundRouteOf>): Partial<SmsChannel> => ({
  healthInbound: route.inbound,
  healthInboundUrl: route.inboundUrl,
});

/** What the probe found in Twilio: everything the stored row and the webhook step depend on. */
interface ProbeResult {
  number: TwilioIncomingNumber;
  accountType: string;
  pool: TwilioMessagingServicePool | null;
}

@Injectable()
export class ConnectSmsChannelUseCase {
  private readonly logger = new Logger(ConnectSmsChannelUseCase.name);

  constructor(
    private readonly transactions: Transactions,
    private readonly channels: SmsChannelStore,
    private readonly chatbots: ChatbotsService,
    private readonly urls: SmsWebhookUrls,
    private readonly twilio: TwilioRestAdapter,
    private readonly tokens: SmsChannelTokens,
    private readonly events: SmsChannelEvents,
  ) {}

  async execute(
    organization: Organization,
    chatbotId: string,
    dto: ConnectSmsChannelDto,
  ): Promise<SmsChannel> {
    await this.chatbots.get(organization.id, chatbotId);
    if (!planIncludesIntegrations(organization.plan))
      throw Errors.planUpgradeRequired(organization.plan);
    const credentials: TwilioCredentials = {
      accountSid: dto.accountSid,
      authToken: new Secret(dto.authToken),
    };
    const probe = await this.probe(credentials, dto.phoneNumber, dto.messagingServiceSid);
    const inbound = inboundWebhookOf(probe.number, probe.pool);
    assertMayConfigure(inbound, probe.pool, probe.number, this.urls.inbound, dto.configureWebhook);
    const channel = await this.store(organization, chatbotId, dto, credentials, probe, inbound);
    this.logger.log(
      {
        channelId: channel.id,
        chatbotId,
        accountType: probe.accountType,
        messagingServiceSid: channel.messagingServiceSid,
      },
      'SMS channel connected',
    );
    return channel;
  }

  /**
   * Credentials work, the account is active, the number is the account's and can text, and the
   * Messaging Service holding it (the one named, which must hold it) is found. A failed Twilio
   * call answers as TwilioApiError says (credentials rejected, unreachable, request refused).
   */
  private async probe(
    credentials: TwilioCredentials,
    phoneNumber: string,
    messagingServiceSid: string | undefined,
  ): Promise<ProbeResult> {
    const account = await this.twilio.fetchAccount(credentials);
    if (account.status !== 'active') throw Errors.twilioAccountNotActive(account.status);
    const number = await this.twilio.findIncomingNumber(credentials, phoneNumber);
    // Twilio's PhoneNumber filter also matches partial numbers; only an exact match counts.
    if (!number || number.phoneNumber !== phoneNumber) throw Errors.twilioNumberNotOwned();
    if (!number.smsCapable) throw Errors.twilioNumberNotSmsCapable();
    const pool = messagingServiceSid
      ? await this.namedService(credentials, messagingServiceSid, number)
      : await this.twilio.findMessagingServiceOf(credentials, number.sid);
    return { number, accountType: account.type, pool };
  }

  private async namedService(
    credentials: TwilioCredentials,
    messagingServiceSid: string,
    number: TwilioIncomingNumber,
  ): Promise<TwilioMessagingServicePool> {
    const pool = await this.twilio.fetchMessagingService(credentials, messagingServiceSid);
    if (!pool) throw Errors.twilioMessagingServiceNotFound();
    if (!pool.phoneNumberSids.includes(number.sid))
      throw Errors.twilioNumberNotInMessagingService();
    return pool;
  }

  private async store(
    organization: Organization,
    chatbotId: string,
    dto: ConnectSmsChannelDto,
    credentials: TwilioCredentials,
    { number, accountType, pool }: ProbeResult,
    inbound: InboundWebhook,
  ): Promise<SmsChannel> {
    const webhookUrl = this.urls.inbound;
    let pointedAtUs = false;
    try {
      const channel = await this.transactions.run(async (tx) => {
        const existing = await this.channels.lockForChatbot(tx, chatbotId);
        const holder = await this.channels.findByNumber(tx, dto.phoneNumber);
        if (holder && holder.chatbotId !== chatbotId) throw Errors.numberAlreadyConnected();
        const id = existing?.id ?? randomUUID();
        const sameNumber =
          existing?.phoneNumber === dto.phoneNumber && existing.accountSid === dto.accountSid;
        const pointsToUs = inbound.url === webhookUrl;
        const willSet = Boolean(dto.configureWebhook) && !pointsToUs;
        const ours =
          sameNumber &&
          Boolean(existing?.webhookConfiguredByUs) &&
          (existing?.webhookConfiguredOn ?? 'number') === inbound.on;
        const previous = willSet
          ? { url: inbound.url, method: inbound.method }
          : await this.replacedBefore(tx, chatbotId, ours ? existing : null, pool, inbound);
        if (existing) this.tokens.forget(existing);
        await this.channels.save(tx, {
          id,
          organizationId: organization.id,
          chatbotId,
          accountSid: dto.accountSid,
          authTokenEncrypted: this.tokens.encryptCurrent(id, credentials.authToken),
          phoneNumber: dto.phoneNumber,
          phoneNumberSid: number.sid,
          friendlyName: dto.friendlyName ?? null,
          accountType,
          messagingServiceSid: pool?.service.sid ?? null,
          messagingServiceFriendlyName: pool?.service.friendlyName ?? null,
          messagingServiceInboundWebhook: pool ? inbound.on : null,
          messagingServiceUsA2pRegistered: pool?.service.usA2pRegistered ?? null,
          webhookConfiguredByUs: Boolean(dto.configureWebhook) || ours,
          webhookConfiguredOn: dto.configureWebhook || ours ? inbound.on : null,
          webhookPreviousUrl: previous.url,
          webhookPreviousMethod: previous.method,
          webhookPointsToUs: pointsToUs,
          // A reconnect replaces every token, a pending one too; the probe was a check.
          pendingAuthTokenEncrypted: null,
          healthCheckedAt: new Date(),
          healthCredentials: 'valid',
          healthNumber: 'present',
          ...healthInboundOf(inboundRouteOf(inbound.url, webhookUrl)),
          healthReportedProblem: null,
          connectedAt: new Date(),
          lastError: null,
          lastErrorAt: null,
        });
        // Last step before commit, after every check the database can make: if Twilio refuses,
        // the transaction rolls back and nothing is stored.
        if (willSet) {
          const url = await this.pointAtUs(credentials, number, pool, inbound);
          pointedAtUs = true;
          await this.channels.recordInboundRoute(tx, id, {
            pointsToUs: url === webhookUrl,
            ...inboundRouteOf(url, webhookUrl),
          });
        }
        return this.channels.get(tx, id);
      });
      // After the commit: a webhook meanwhile may have cached "no channel" for the number.
      this.tokens.forget(channel);
      // Replies held while Twilio rejected the old token go out with the new one.
      await this.events.credentialsAccepted(channel.id);
      return channel;
    } catch (error) {
      // The commit failed after Twilio was changed: put the customer's setting back.
      if (pointedAtUs) await this.restore(credentials, number, pool, inbound);
      if (isUniqueViolation(error)) throw Errors.numberAlreadyConnected();
      throw error;
    }
  }

  /**
   * What disconnect must put back when the URL already points at us: what we replaced when we set
   * it, for this channel (a reconnect) or, for a service, for another channel on it (the last one
   * to disconnect restores it).
   */
  private async replacedBefore(
    tx: Transaction,
    chatbotId: string,
    ownPrevious: SmsChannel | null,
    pool: TwilioMessagingServicePool | null,
    inbound: InboundWebhook,
  ): Promise<ReplacedInboundUrl> {
    if (ownPrevious?.webhookPreviousUrl) {
      return { url: ownPrevious.webhookPreviousUrl, method: ownPrevious.webhookPreviousMethod };
    }
    const onService =
      inbound.on === 'service' && pool
        ? await this.channels.replacedOnService(tx, pool.service.sid, chatbotId)
        : null;
    return (
      onService ?? {
        url: ownPrevious?.webhookPreviousUrl ?? null,
        method: ownPrevious?.webhookPreviousMethod ?? null,
      }
    );
  }

  /** Sets the inbound URL Twilio reads for the number to our webhook; answers what it now is. */
  private async pointAtUs(
    credentials: TwilioCredentials,
    number: TwilioIncomingNumber,
    pool: TwilioMessagingServicePool | null,
    inbound: InboundWebhook,
  ): Promise<string | null> {
    const webhookUrl = this.urls.inbound;
    if (inbound.on === 'service' && pool) {
      const service = await this.twilio.updateServiceInboundUrl(
        credentials,
        pool.service.sid,
        webhookUrl,
        'POST',
      );
      return service.inboundRequestUrl;
    }
    return (await this.twilio.updateSmsUrl(credentials, number.sid, webhookUrl)).smsUrl;
  }

  /** Puts back what pointAtUs replaced, best effort (the connect failed after it). */
  private async restore(
    credentials: TwilioCredentials,
    number: TwilioIncomingNumber,
    pool: TwilioMessagingServicePool | null,
    inbound: InboundWebhook,
  ): Promise<void> {
    const url = inbound.url ?? '';
    const method = inbound.method ?? 'POST';
    const undo =
      inbound.on === 'service' && pool
        ? this.twilio.updateServiceInboundUrl(credentials, pool.service.sid, url, method)
        : this.twilio.updateSmsUrl(credentials, number.sid, url, method);
    await undo.catch((error) => {
      this.logger.warn({ err: error }, 'could not restore the inbound URL after a failed connect');
    });
  }
}
