import {
  Accounts,
  type AccountCredentials,
  type AccountState,
  type AddAccountOptions,
} from './accounts';
import { AuthTokens } from './auth-tokens';
import { TwilioClock } from './clock';
import { Faults, type DropOptions, type FaultFilter, type InjectedError } from './faults';
import {
  IncomingPhoneNumbers,
  type AddNumberOptions,
  type NumberState,
} from './incoming-phone-numbers';
import { Messages, type MessageStatus, type RecordedMessage } from './messages';
import {
  MessagingServices,
  type AddMessagingServiceOptions,
  type MessagingServiceState,
} from './messaging-services';
import { DOCUMENTS, OpenApiIndex, type OperationId } from './openapi';
import { ApiServer, type RecordedRequest } from './server';
import {
  Webhooks,
  type InboundMessageOptions,
  type StatusCallbackOptions,
  type WebhookDelivery,
} from './webhooks';

/**
 * A local stand-in for the part of Twilio's REST API described by the OpenAPI subsets in
 * documents/ (copies of ../shared/twilio), for the e2e tests, which drive the real `twilio` SDK
 * against it, and for `npm run demo`, which runs the app against it instead of a Twilio account.
 *
 * It is deliberately stricter than Twilio in one way: parameters the document does not define
 * are refused (real Twilio silently ignores them, which hides typos such as `SmsURL` until
 * production). Otherwise it tries to answer the way Twilio does, including its error codes, so
 * that the app's error classification (permanent vs transient) is exercised for real.
 *
 * This class is the facade tests use; the work is done by one file per resource (accounts.ts,
 * incoming-phone-numbers.ts, messaging-services.ts, messages.ts), Accounts v1's Auth Token rotation (auth-tokens.ts), the webhooks Twilio sends (webhooks.ts), the injected
 * failures (faults.ts) and the HTTP front all resources share (server.ts). A new Twilio resource
 * is a class implementing `Resource` (api.ts) for its operations, its document in DOCUMENTS
 * (openapi.ts), and a line in the constructor below.
 */
export class TwilioDouble {
  private readonly clock = new TwilioClock();
  private readonly faults = new Faults();
  private readonly accounts: Accounts;
  private readonly authTokens: AuthTokens;
  private readonly phoneNumbers: IncomingPhoneNumbers;
  private readonly messagingServices: MessagingServices;
  private readonly messageLog: Messages;
  private readonly webhooks: Webhooks;
  private readonly server: ApiServer;

  private constructor(spec: OpenApiIndex) {
    this.accounts = new Accounts(this.clock, spec);
    this.authTokens = new AuthTokens(this.clock);
    this.phoneNumbers = new IncomingPhoneNumbers(this.clock, spec, this.accounts);
    this.messagingServices = new MessagingServices(
      this.clock,
      spec,
      this.accounts,
      this.phoneNumbers,
    );
    this.messageLog = new Messages(
      this.clock,
      this.phoneNumbers,
      this.messagingServices,
      this.faults,
    );
    this.webhooks = new Webhooks(
      this.accounts,
      this.phoneNumbers,
      this.messageLog,
      this.messagingServices,
    );
    this.server = new ApiServer(spec, this.clock, this.faults, this.accounts, [
      this.accounts,
      this.authTokens,
      this.phoneNumbers,
      this.messagingServices,
      this.messageLog,
    ]);
  }

  static async start(
    options: { documents?: string[]; clockSkewMs?: number } = {},
  ): Promise<TwilioDouble> {
    const double = new TwilioDouble(OpenApiIndex.load(options.documents ?? DOCUMENTS));
    double.setClockSkew(options.clockSkewMs ?? 0);
    await double.server.listen();
    return double;
  }

  /**
   * The origin to point the app at, for API v2010 (`TWILIO_API_BASE_URL`) and Messaging v1
   * (`TWILIO_MESSAGING_API_BASE_URL`) alike: their paths do not overlap.
   */
  get url(): string {
    return this.server.url;
  }

  /** Every message created through POST Messages.json, in order. */
  get messages(): RecordedMessage[] {
    return this.messageLog.recorded;
  }

  /** Every HTTP request received, in order. */
  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  /** Closes the server; kept-alive client sockets are destroyed so jest can exit. */
  stop(): Promise<void> {
    return this.server.close();
  }

  /** Forgets accounts, numbers, messages, the request log and all faults. Listeners stay. */
  reset(): void {
    this.accounts.clear();
    this.phoneNumbers.clear();
    this.messagingServices.clear();
    this.messageLog.clear();
    this.server.requests.length = 0;
    this.clearFaults();
  }

  /** Removes pending fault injections and message rejections, keeps state. */
  clearFaults(): void {
    this.faults.clear();
    this.server.clearTimers();
  }

  /** The operations of the documents no resource implements; empty unless a document grew. */
  unimplementedOperations(): OperationId[] {
    return this.server.unimplementedOperations();
  }

  // ---- Twilio's clock --------------------------------------------------------------

  /**
   * Runs Twilio's clock `ms` ahead of ours (negative: behind), as a real Twilio's may be: every
   * date it renders (`date_created`, `date_sent`, `date_updated`), the `DateSent` list filters and
   * the HTTP `Date` header of its answers come from that clock.
   */
  setClockSkew(ms: number): void {
    this.clock.skewMs = ms;
  }

  /**
   * Messages created less than `ms` ago are not listed yet (a fetch by SID still finds them):
   * Twilio's list may lag its creates, the window in which a send whose answer was lost cannot
   * be found by listing.
   */
  setListLag(ms: number): void {
    this.messageLog.listLagMs = ms;
  }

  /** Twilio's clock. */
  now(): number {
    return this.clock.now();
  }

  // ---- accounts and numbers ----------------------------------------------------------

  addAccount(options: AddAccountOptions = {}): AccountCredentials {
    return this.accounts.add(options);
  }

  /**
   * E.g. suspend an account or rotate its token in the middle of a test (a new `authToken` here is
   * a rotation nobody told us about; the Secondary/Promote flow goes through the SDK).
   */
  updateAccount(
    sid: string,
    patch: Partial<Pick<AccountState, 'status' | 'type' | 'friendlyName' | 'authToken'>>,
  ): AccountState {
    return this.accounts.update(sid, patch);
  }

  account(sid: string): AccountState | undefined {
    return this.accounts.get(sid);
  }

  addNumber(accountSid: string, options: AddNumberOptions): { sid: string } {
    return this.phoneNumbers.add(accountSid, options);
  }

  numbers(accountSid: string): NumberState[] {
    return this.phoneNumbers.of(accountSid);
  }

  // ---- Messaging Services (Messaging v1) ------------------------------------------------

  addMessagingService(
    accountSid: string,
    options: AddMessagingServiceOptions = {},
  ): { sid: string } {
    return this.messagingServices.add(accountSid, options);
  }

  /** Puts a number (added with addNumber) into a service's sender pool, as the Console does. */
  addNumberToMessagingService(serviceSid: string, phoneNumber: string): void {
    this.messagingServices.addNumber(serviceSid, phoneNumber);
  }

  /** E.g. switch the service's inbound settings, or register an A2P campaign, mid-test. */
  updateMessagingService(
    sid: string,
    patch: Parameters<MessagingServices['update']>[1],
  ): MessagingServiceState {
    return this.messagingServices.update(sid, patch);
  }

  messagingService(sid: string): MessagingServiceState | undefined {
    return this.messagingServices.get(sid);
  }

  // ---- messages ------------------------------------------------------------------------

  message(sid: string): RecordedMessage | undefined {
    return this.messageLog.get(sid);
  }

  /** What a later fetch returns; no callback is sent (see sendStatusCallback). */
  setMessageStatus(sid: string, status: MessageStatus, errorCode?: number): RecordedMessage {
    return this.messageLog.setStatus(sid, status, errorCode);
  }

  /** Called synchronously for each created message; returns an unsubscribe function. */
  onMessage(listener: (message: RecordedMessage) => void): () => void {
    return this.messageLog.onMessage(listener);
  }

  /** Resolves with the (matching) messages once there are at least `count`. */
  waitForMessages(
    count: number,
    timeoutMs = 5000,
    predicate: (m: RecordedMessage) => boolean = () => true,
  ): Promise<RecordedMessage[]> {
    return this.messageLog.waitFor(count, timeoutMs, predicate);
  }

  // ---- fault injection -------------------------------------------------------------------
  // Each request consumes at most one fault: the earliest-registered matching one.

  /** The next `n` matching requests answer `error` (e.g. 503, or 429 with Retry-After). */
  failNext(n: number, error: InjectedError, filter: FaultFilter = {}): void {
    this.faults.add(n, filter, { kind: 'error', error });
  }

  /**
   * The next `n` matching requests are processed at once but answered after
   * `ms`: the client times out although Twilio did act (a message is recorded).
   */
  delayNext(n: number, ms: number, filter: FaultFilter = {}): void {
    this.faults.add(n, filter, { kind: 'delay', ms });
  }

  /** The next `n` matching requests get their socket destroyed without an answer. */
  dropNext(n: number, options: DropOptions = {}): void {
    const { afterProcessing = false, ...filter } = options;
    this.faults.add(n, filter, { kind: 'drop', afterProcessing });
  }

  /**
   * Messages.create answers this Twilio error (e.g. 21610, 21211) until
   * reset()/clearFaults(); only for `to` when given.
   */
  rejectMessagesWith(
    code: number,
    message: string,
    status = 400,
    options: { to?: string } = {},
  ): void {
    this.faults.rejectMessages({ code, message, status, to: options.to });
  }

  // ---- webhooks Twilio would send ------------------------------------------------------

  /** Sends a signed inbound-SMS webhook, as Twilio does when `to` receives a text. */
  sendInboundMessage(options: InboundMessageOptions): Promise<WebhookDelivery> {
    return this.webhooks.sendInboundMessage(options);
  }

  /** Updates the message's status and POSTs the signed status callback Twilio would send. */
  sendStatusCallback(
    messageSid: string,
    status: MessageStatus,
    options: StatusCallbackOptions = {},
  ): Promise<WebhookDelivery> {
    return this.webhooks.sendStatusCallback(messageSid, status, options);
  }
}
