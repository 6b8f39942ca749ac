/**
 * Whether a channel can work right now, as Twilio tells it: the credentials (the account fetch),
 * the number still on the account, and where its incoming messages go. A check runs at most once
 * per channel per HEALTH_CHECK_INTERVAL_MS across all instances (claimed in the database, where
 * the result is kept for every instance); a Twilio outage records `unknown`, never a false alarm.
 * A health that turns bad is reported once per change (Sentry, tag feature: channels/sms, and a
 * log line), never with a token or the customer's own URL (which may embed credentials).
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error';
import { RESOURCE_NOT_FOUND } from '../../common/sms';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { TwilioApiError, TwilioRestAdapter, SmsErrorReporter } from '../twilio-sms';
import { inboundRouteOf, inboundWebhookOf } from './inbound-route';
import { SmsChannelEvents } from './sms-channel-events';
import { SmsChannelTokens, TokenChannel } from './sms-channel-tokens';
import type { SmsChannel } from './sms-channel.entity';
import { HealthFindings, SmsChannelStore, StoredHealth, storedHealthOf } from './sms-channel.store';
import { SmsWebhookUrls } from './sms-webhook-urls';

/** A channel is checked live at most this often (the status call and the sweep share it). */
export const HEALTH_CHECK_INTERVAL_MS = 60_000;

export type HealthChannel = TokenChannel &
  Pick<
    SmsChannel,
    | 'organizationId'
    | 'chatbotId'
    | 'phoneNumberSid'
    | 'messagingServiceSid'
    | 'healthCheckedAt'
    | 'healthCredentials'
    | 'healthNumber'
    | 'healthInbound'
    | 'healthInboundUrl'
  >;

/** A bad health, as reported: in words support can act on, no URL, no token. */
export class ChannelHealthProblem extends DomainError {
  constructor(readonly problem: string) {
    super('CHANNEL_UNHEALTHY', `SMS channel health turned bad: ${problem}`);
  }
}

export function problemOf(health: HealthFindings): string | null {
  const problems: string[] = [];
  if (health.credentials === 'rejected') problems.push('Twilio rejects the stored Auth Token');
  if (health.number === 'gone') problems.push('the number is no longer on the Twilio account');
  if (health.inbound === 'elsewhere') problems.push("the number's incoming messages go elsewhere");
  if (health.inbound === 'unset') problems.push('the number has no incoming-message URL');
  return problems.length ? problems.join('; ') : null;
}

const knownOf = (found: HealthFindings, last: HealthFindings): HealthFindings => ({
  credentials: found.credentials === 'unknown' ? last.credentials : found.credentials,
  number: found.number === 'unknown' ? last.number : found.number,
  inbound: found.inbound === 'unknown' ? last.inbound : found.inbound,
  inboundUrl: found.inbound === 'unknown' ? last.inboundUrl : found.inboundUrl,
});

const isUnknown = (health: HealthFindings) =>
  health.credentials === 'unknown' && health.number === 'unknown' && health.inbound === 'unknown';

@Injectable()
export class ChannelHealthService {
  private readonly logger = new Logger(ChannelHealthService.name);

  constructor(
    private readonly store: SmsChannelStore,
    private readonly tokens: SmsChannelTokens,
    private readonly events: SmsChannelEvents,
    private readonly urls: SmsWebhookUrls,
    private readonly twilio: TwilioRestAdapter,
    private readonly reporter: SmsErrorReporter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * For the status call: the last check when it is recent or another instance is checking; else a
   * check now, waited for at most half of TWILIO_TIMEOUT_MS (a slower Twilio gets the last check;
   * the check goes on, bounded by TWILIO_TIMEOUT_MS, and records what it finds when it ends).
   */
  async current(channel: HealthChannel): Promise<StoredHealth> {
    const stored = storedHealthOf(channel);
    const age = stored.checkedAt ? Date.now() - stored.checkedAt.getTime() : Infinity;
    if (age < HEALTH_CHECK_INTERVAL_MS) return stored;
    if (!(await this.store.claimHealthCheck(channel.id, HEALTH_CHECK_INTERVAL_MS))) return stored;
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), this.config.twilioTimeoutMs / 2);
    });
    const checked = this.check(channel).catch((error: unknown) => {
      this.logger.warn({ err: error, channelId: channel.id }, 'channel health check failed');
      return null;
    });
    const result = await Promise.race([checked, slow]);
    clearTimeout(timer);
    return result ?? stored;
  }

  /** Checks now (the caller claimed the check, or the customer asked for it), records, reports. */
  async check(channel: HealthChannel): Promise<StoredHealth> {
    const found = await this.probe(channel);
    const recorded = (await this.store.recordHealthCheck(channel.id, found)) ?? {
      ...found,
      checkedAt: new Date(),
    };
    if (found.credentials === 'valid') await this.events.credentialsAccepted(channel.id);
    // What Twilio did not answer this time is judged as last known: a blip is no recovery.
    if (!isUnknown(found))
      await this.reportChange(channel, knownOf(found, storedHealthOf(channel)));
    return recorded;
  }

  /** A send answered 401/20003: the credentials are rejected, known now, not at the next check. */
  async noteCredentialsRejected(channel: Pick<HealthChannel, 'id' | 'chatbotId'>): Promise<void> {
    const health = await this.store.recordSendNotice(channel.id, { credentials: 'rejected' });
    if (health) await this.reportChange(channel, health);
  }

  /** A send answered "From not valid for this account" (21606, 21212): the number is gone. */
  async noteNumberGone(channel: Pick<HealthChannel, 'id' | 'chatbotId'>): Promise<void> {
    const health = await this.store.recordSendNotice(channel.id, { number: 'gone' });
    if (health) await this.reportChange(channel, health);
  }

  private async probe(channel: HealthChannel): Promise<HealthFindings> {
    const [credentials, inbound] = await Promise.all([
      this.probeCredentials(channel),
      this.probeInbound(channel),
    ]);
    return { credentials, ...inbound };
  }

  private async probeCredentials(channel: HealthChannel): Promise<HealthFindings['credentials']> {
    try {
      await this.tokens.call(channel, (credentials) => this.twilio.fetchAccount(credentials));
      return 'valid';
    } catch (error) {
      if (error instanceof TwilioApiError && error.isAuthenticationFailure) return 'rejected';
      if (error instanceof TwilioApiError) return 'unknown';
      throw error;
    }
  }

  /**
   * The inbound check: is the number still on the account, and where do its texts go — judged by
   * the URL Twilio reads for it (inboundWebhookOf): its Messaging Service's inbound URL when the
   * channel's service (still holding the number) does not defer to its numbers, else its SmsUrl.
   */
  private async probeInbound(
    channel: HealthChannel,
  ): Promise<Pick<HealthFindings, 'number' | 'inbound' | 'inboundUrl'>> {
    try {
      const number = await this.tokens.call(channel, (credentials) =>
        this.twilio.fetchIncomingNumber(credentials, channel.phoneNumberSid),
      );
      const serviceSid = channel.messagingServiceSid;
      const pool = serviceSid
        ? await this.tokens.call(channel, (credentials) =>
            this.twilio.fetchMessagingService(credentials, serviceSid),
          )
        : null;
      const holding = pool?.phoneNumberSids.includes(number.sid) ? pool : null;
      const { url } = inboundWebhookOf(number, holding);
      return { number: 'present', ...inboundRouteOf(url, this.urls.inbound) };
    } catch (error) {
      if (!(error instanceof TwilioApiError)) throw error;
      // An authenticated 404: the number was released or moved to another account.
      const gone = error.twilioCode === RESOURCE_NOT_FOUND;
      return { number: gone ? 'gone' : 'unknown', inbound: 'unknown', inboundUrl: null };
    }
  }

  private async reportChange(
    channel: Pick<HealthChannel, 'id' | 'chatbotId'>,
    health: HealthFindings,
  ): Promise<void> {
    const problem = problemOf(health);
    if (!(await this.store.swapReportedProblem(channel.id, problem))) return;
    const context = { chatbotId: channel.chatbotId, channelId: channel.id };
    if (problem) this.reporter.capture(new ChannelHealthProblem(problem), context, 'warning');
    else this.logger.log(context, 'SMS channel health is good again');
  }
}
