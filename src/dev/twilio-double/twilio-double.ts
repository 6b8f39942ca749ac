import http, { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { AddressInfo, Socket } from 'node:net';
import twilio from 'twilio';
import { OpenApiIndex, OperationId, OperationSpec, ParamBag, ParamIssue } from './openapi';
import { countSegments } from './segments';

/**
 * In-process stand-in for the part of Twilio's REST API v2010 described by
 * api_v2010_sms_subset.openapi.json (a copy of the shared document), for e2e
 * tests that drive the real `twilio` SDK (see test/twilio-double/) and for
 * `npm run demo`, which runs the app against it instead of a Twilio account.
 *
 * It is deliberately stricter than Twilio in one way: parameters the document
 * does not define are refused (real Twilio silently ignores them, which hides
 * typos such as `SmsURL` until production). Otherwise it tries to answer the
 * way Twilio does, including its error codes, so that the app's error
 * classification (permanent vs transient) is exercised for real.
 */

export type AccountStatus = 'active' | 'suspended' | 'closed';
export type AccountType = 'Trial' | 'Full';
export type HttpMethodName = 'GET' | 'POST';
export type MessageStatus =
  | 'queued'
  | 'sending'
  | 'sent'
  | 'failed'
  | 'delivered'
  | 'undelivered'
  | 'receiving'
  | 'received'
  | 'accepted'
  | 'scheduled'
  | 'read'
  | 'partially_delivered'
  | 'canceled';

export interface AddAccountOptions {
  sid?: string;
  authToken?: string;
  status?: AccountStatus;
  type?: AccountType;
  friendlyName?: string;
}

export interface AccountCredentials {
  sid: string;
  authToken: string;
}

export interface AccountState extends AccountCredentials {
  status: AccountStatus;
  type: AccountType;
  friendlyName: string;
  dateCreated: number;
  dateUpdated: number;
}

export interface Capabilities {
  sms: boolean;
  mms: boolean;
  voice: boolean;
  fax: boolean;
}

export interface AddNumberOptions {
  phoneNumber: string;
  /** Default true. */
  sms?: boolean;
  /** Default: same as `sms`. */
  mms?: boolean;
  /** Default true. */
  voice?: boolean;
  smsUrl?: string;
  smsMethod?: HttpMethodName;
  friendlyName?: string;
  /** IncomingPhoneNumber `type`, e.g. 'local' or 'mobile'. Default 'local'. */
  type?: string;
}

export interface NumberState {
  sid: string;
  accountSid: string;
  phoneNumber: string;
  friendlyName: string;
  capabilities: Capabilities;
  smsUrl: string;
  smsMethod: string;
  smsFallbackUrl: string;
  statusCallback: string;
  /** The full resource as the API renders it (snake_case), a copy. */
  resource: Record<string, unknown>;
}

export type Params = Record<string, string | string[]>;

export interface RecordedMessage {
  sid: string;
  accountSid: string;
  to: string;
  from: string | null;
  body: string;
  statusCallback: string | null;
  messagingServiceSid: string | null;
  mediaUrls: string[];
  status: MessageStatus;
  errorCode: number | null;
  errorMessage: string | null;
  numSegments: number;
  /** When the create request was processed, on Twilio's clock (see clockSkewMs). */
  receivedAt: number;
  updatedAt: number;
  sentAt: number | null;
  /** Every form parameter of the create request. */
  params: Params;
  /** Set by DELETE Messages/{Sid}.json; the message then 404s over the API. */
  deleted: boolean;
}

export type FaultKind = 'error' | 'delay' | 'drop';

export interface RecordedRequest {
  /** Date.now() when the request arrived (the test's clock, not Twilio's). */
  at: number;
  method: string;
  path: string;
  query: Params;
  form: Params;
  operationId: OperationId | null;
  /** Basic-auth username as sent (whether or not it authenticated). */
  authAccountSid: string | null;
  /** HTTP status answered; null while pending or when the socket was dropped. */
  status: number | null;
  fault: FaultKind | null;
}

export interface FaultFilter {
  /** Case-insensitive HTTP method. */
  method?: string;
  /** Substring of the URL path, e.g. '/Messages.json'. */
  pathIncludes?: string;
  /** Operation from the OpenAPI document, e.g. 'CreateMessage'. */
  operationId?: OperationId;
}

export interface InjectedError {
  status: number;
  /** Default 20000 + status (20429, 20500, 20503: Twilio's own codes). */
  code?: number;
  message?: string;
  /** Seconds, sent as the Retry-After header. */
  retryAfter?: number;
}

export interface DropOptions extends FaultFilter {
  /**
   * Process the request (e.g. record the message) before dropping: the
   * "did it go through?" case. Default false: dropped before any effect.
   */
  afterProcessing?: boolean;
}

export interface WebhookDelivery {
  status: number;
  body: string;
  /** The parameters sent (and signed). */
  params: Record<string, string>;
  signature: string;
}

export interface InboundMessageOptions {
  /** A number added with addNumber; its account signs the request. */
  to: string;
  from: string;
  body: string;
  /** Extra parameters, e.g. { OptOutType: 'STOP', FromCity: 'HELSINKI' }. */
  extra?: Record<string, string>;
  /** URL to sign; default the number's sms_url. */
  url?: string;
  /**
   * Where to actually send it, when the signed (public) URL is not reachable from tests. Without
   * a query string of its own it gets the signed URL's: Twilio requests the exact URL it signed.
   */
  deliverTo?: string;
}

export interface StatusCallbackOptions {
  errorCode?: number;
  /** URL to sign; default the message's StatusCallback (query string included). */
  url?: string;
  /** As InboundMessageOptions.deliverTo. */
  deliverTo?: string;
}

interface ApiError {
  status: number;
  code: number;
  message: string;
  headers?: Record<string, string>;
}

interface ApiResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type FaultAction =
  | { kind: 'error'; error: InjectedError }
  | { kind: 'delay'; ms: number }
  | { kind: 'drop'; afterProcessing: boolean };

interface FaultRule {
  remaining: number;
  filter: FaultFilter;
  action: FaultAction;
}

interface MessageRejection {
  code: number;
  message: string;
  status: number;
  to?: string;
}

type NumberResource = Record<string, unknown> & {
  sid: string;
  account_sid: string;
  phone_number: string;
  friendly_name: string;
  capabilities: Capabilities;
  sms_url: string;
  sms_method: string;
  sms_fallback_url: string;
  status_callback: string;
};

interface RequestContext {
  op: OperationSpec;
  pathParams: Record<string, string>;
  query: ParamBag;
  form: ParamBag;
  account: AccountState;
  pathname: string;
}

const API_VERSION = '2010-04-01';
const BASE = `/${API_VERSION}/Accounts`;
const E164 = /^\+[1-9]\d{6,14}$/;
const MAX_BODY_CHARS = 1600;

export class TwilioDouble {
  /** Every message created through POST Messages.json, in order. */
  readonly messages: RecordedMessage[] = [];
  /** Every HTTP request received, in order. */
  readonly requests: RecordedRequest[] = [];
  url = '';

  private readonly accounts = new Map<string, AccountState>();
  private readonly numberResources = new Map<string, NumberResource>();
  private faults: FaultRule[] = [];
  private rejections: MessageRejection[] = [];
  private readonly messageListeners = new Set<(m: RecordedMessage) => void>();
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server: http.Server;
  private readonly numberProps: Set<string>;

  /** Twilio's clock minus ours; see setClockSkew. */
  private clockSkewMs = 0;
  /** See setListLag. */
  private listLagMs = 0;

  private constructor(private readonly spec: OpenApiIndex) {
    this.numberProps = new Set(spec.schemaProperties('api.v2010.account.incoming_phone_number'));
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(
    options: { specPath?: string; clockSkewMs?: number } = {},
  ): Promise<TwilioDouble> {
    const double = new TwilioDouble(OpenApiIndex.load(options.specPath));
    double.setClockSkew(options.clockSkewMs ?? 0);
    await new Promise<void>((resolve, reject) => {
      double.server.once('error', reject);
      double.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = double.server.address() as AddressInfo;
    double.url = `http://127.0.0.1:${port}`;
    return double;
  }

  /** Closes the server; kept-alive client sockets are destroyed so jest can exit. */
  async stop(): Promise<void> {
    this.clearTimers();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** Forgets accounts, numbers, messages, the request log and all faults. Listeners stay. */
  reset(): void {
    this.accounts.clear();
    this.numberResources.clear();
    this.messages.length = 0;
    this.requests.length = 0;
    this.clearFaults();
  }

  /** Removes pending fault injections and message rejections, keeps state. */
  clearFaults(): void {
    this.faults = [];
    this.rejections = [];
    this.clearTimers();
  }

  /**
   * Runs Twilio's clock `ms` ahead of ours (negative: behind), as a real Twilio's may be: every
   * date it renders (`date_created`, `date_sent`, `date_updated`), the `DateSent` list filters and
   * the HTTP `Date` header of its answers come from that clock.
   */
  setClockSkew(ms: number): void {
    this.clockSkewMs = ms;
  }

  /**
   * Messages created less than `ms` ago are not listed yet (a fetch by SID still finds them):
   * Twilio's list may lag its creates, the window in which a send whose answer was lost cannot
   * be found by listing.
   */
  setListLag(ms: number): void {
    this.listLagMs = ms;
  }

  /** Twilio's clock. */
  now(): number {
    return Date.now() + this.clockSkewMs;
  }

  // ---- state ---------------------------------------------------------------

  addAccount(options: AddAccountOptions = {}): AccountCredentials {
    const sid = options.sid ?? randomSid('AC');
    if (!/^AC[0-9a-fA-F]{32}$/.test(sid)) throw new Error(`Invalid account SID ${sid}`);
    if (this.accounts.has(sid)) throw new Error(`Account ${sid} already exists`);
    const now = this.now();
    const account: AccountState = {
      sid,
      authToken: options.authToken ?? randomBytes(16).toString('hex'),
      status: options.status ?? 'active',
      type: options.type ?? 'Full',
      friendlyName: options.friendlyName ?? 'My first Twilio account',
      dateCreated: now,
      dateUpdated: now,
    };
    this.accounts.set(sid, account);
    return { sid, authToken: account.authToken };
  }

  /** E.g. suspend an account or rotate its token in the middle of a test. */
  updateAccount(
    sid: string,
    patch: Partial<Pick<AccountState, 'status' | 'type' | 'friendlyName' | 'authToken'>>,
  ): AccountState {
    const account = this.requireAccount(sid);
    Object.assign(account, patch, { dateUpdated: this.now() });
    return { ...account };
  }

  account(sid: string): AccountState | undefined {
    const account = this.accounts.get(sid);
    return account && { ...account };
  }

  addNumber(accountSid: string, options: AddNumberOptions): { sid: string } {
    this.requireAccount(accountSid);
    const { phoneNumber } = options;
    if (!E164.test(phoneNumber)) throw new Error(`${phoneNumber} is not an E.164 number`);
    if (this.findNumber(phoneNumber)) throw new Error(`${phoneNumber} is already on an account`);
    const sms = options.sms ?? true;
    const resource = this.newNumberResource(accountSid, phoneNumber, {
      sms,
      mms: options.mms ?? sms,
      voice: options.voice ?? true,
      fax: false,
    });
    resource.sms_url = options.smsUrl ?? '';
    resource.sms_method = options.smsMethod ?? 'POST';
    if (options.friendlyName) resource.friendly_name = options.friendlyName;
    if (options.type) resource.type = options.type;
    this.numberResources.set(resource.sid, resource);
    return { sid: resource.sid };
  }

  numbers(accountSid: string): NumberState[] {
    return [...this.numberResources.values()]
      .filter((n) => n.account_sid === accountSid)
      .map((n) => ({
        sid: n.sid,
        accountSid: n.account_sid,
        phoneNumber: n.phone_number,
        friendlyName: n.friendly_name,
        capabilities: { ...n.capabilities },
        smsUrl: n.sms_url,
        smsMethod: n.sms_method,
        smsFallbackUrl: n.sms_fallback_url,
        statusCallback: n.status_callback,
        resource: structuredClone(n),
      }));
  }

  message(sid: string): RecordedMessage | undefined {
    return this.messages.find((m) => m.sid === sid);
  }

  /** What a later fetch returns; no callback is sent (see sendStatusCallback). */
  setMessageStatus(sid: string, status: MessageStatus, errorCode?: number): RecordedMessage {
    const message = this.message(sid);
    if (!message) throw new Error(`No message ${sid}`);
    const now = this.now();
    message.status = status;
    message.updatedAt = now;
    if (errorCode !== undefined) {
      message.errorCode = errorCode;
      message.errorMessage = `Error ${errorCode}`;
    }
    if (['sent', 'delivered', 'undelivered', 'read'].includes(status) && !message.sentAt) {
      message.sentAt = now;
    }
    return message;
  }

  // ---- observation -----------------------------------------------------------

  /** Called synchronously for each created message; returns an unsubscribe function. */
  onMessage(listener: (message: RecordedMessage) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  /** Resolves with the (matching) messages once there are at least `count`. */
  waitForMessages(
    count: number,
    timeoutMs = 5000,
    predicate: (m: RecordedMessage) => boolean = () => true,
  ): Promise<RecordedMessage[]> {
    const current = () => this.messages.filter(predicate);
    if (current().length >= count) return Promise.resolve(current());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(
          new Error(
            `waitForMessages: expected ${count} message(s), got ${current().length} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const unsubscribe = this.onMessage(() => {
        if (current().length < count) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(current());
      });
    });
  }

  // ---- fault injection ---------------------------------------------------------
  // Each request consumes at most one fault: the earliest-registered matching one.

  /** The next `n` matching requests answer `error` (e.g. 503, or 429 with Retry-After). */
  failNext(n: number, error: InjectedError, filter: FaultFilter = {}): void {
    this.addFault(n, filter, { kind: 'error', error });
  }

  /**
   * The next `n` matching requests are processed at once but answered after
   * `ms`: the client times out although Twilio did act (a message is recorded).
   */
  delayNext(n: number, ms: number, filter: FaultFilter = {}): void {
    this.addFault(n, filter, { kind: 'delay', ms });
  }

  /** The next `n` matching requests get their socket destroyed without an answer. */
  dropNext(n: number, options: DropOptions = {}): void {
    const { afterProcessing = false, ...filter } = options;
    this.addFault(n, filter, { kind: 'drop', afterProcessing });
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
    this.rejections.push({ code, message, status, to: options.to });
  }

  // ---- webhooks Twilio would send ------------------------------------------------

  /** Sends a signed inbound-SMS webhook, as Twilio does when `to` receives a text. */
  async sendInboundMessage(options: InboundMessageOptions): Promise<WebhookDelivery> {
    const number = this.findNumber(options.to);
    if (!number) throw new Error(`${options.to} was not added with addNumber`);
    const account = this.requireAccount(number.account_sid);
    const url = options.url ?? number.sms_url;
    if (!url) throw new Error(`${options.to} has no sms_url and no url was given`);
    const sid = randomSid('SM');
    const params: Record<string, string> = {
      SmsMessageSid: sid,
      NumMedia: '0',
      SmsSid: sid,
      SmsStatus: 'received',
      Body: options.body,
      To: options.to,
      NumSegments: String(countSegments(options.body).segments),
      MessageSid: sid,
      AccountSid: account.sid,
      From: options.from,
      ApiVersion: API_VERSION,
      ...options.extra,
    };
    return this.deliverWebhook(
      account.authToken,
      url,
      number.sms_method,
      params,
      options.deliverTo,
    );
  }

  /** Updates the message's status and POSTs the signed status callback Twilio would send. */
  async sendStatusCallback(
    messageSid: string,
    status: MessageStatus,
    options: StatusCallbackOptions = {},
  ): Promise<WebhookDelivery> {
    const message = this.setMessageStatus(messageSid, status, options.errorCode);
    const url = options.url ?? message.statusCallback;
    if (!url) throw new Error(`Message ${messageSid} has no StatusCallback and no url was given`);
    const account = this.requireAccount(message.accountSid);
    const params: Record<string, string> = {
      MessageSid: message.sid,
      SmsSid: message.sid,
      MessageStatus: status,
      SmsStatus: status,
      AccountSid: message.accountSid,
      To: message.to,
      ApiVersion: API_VERSION,
    };
    if (message.from) params.From = message.from;
    if (message.messagingServiceSid) params.MessagingServiceSid = message.messagingServiceSid;
    if (options.errorCode !== undefined) params.ErrorCode = String(options.errorCode);
    return this.deliverWebhook(account.authToken, url, 'POST', params, options.deliverTo);
  }

  // ---- HTTP --------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', this.url);
      const rawBody = await readBody(req);
      const query = toBag(url.searchParams);
      const isForm = (req.headers['content-type'] ?? '').includes(
        'application/x-www-form-urlencoded',
      );
      // Twilio ignores bodies of other types; the required-parameter checks then fire.
      const form = isForm ? toBag(new URLSearchParams(rawBody)) : new Map<string, string[]>();
      const method = (req.method ?? 'GET').toUpperCase();
      const route = this.spec.match(method, url.pathname);
      const credentials = parseBasicAuth(req.headers.authorization);
      const entry: RecordedRequest = {
        at: Date.now(),
        method,
        path: url.pathname,
        query: toRecord(query),
        form: toRecord(form),
        operationId: route.kind === 'operation' ? route.op.operationId : null,
        authAccountSid: credentials?.username ?? null,
        status: null,
        fault: null,
      };
      this.requests.push(entry);

      const fault = this.takeFault(entry);
      entry.fault = fault?.kind ?? null;
      if (fault?.kind === 'drop' && !fault.afterProcessing) {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'error') {
        const { error } = fault;
        const headers: Record<string, string> = {};
        if (error.retryAfter !== undefined) headers['Retry-After'] = String(error.retryAfter);
        const apiError: ApiError = {
          status: error.status,
          code: error.code ?? 20000 + error.status,
          message: error.message ?? http.STATUS_CODES[error.status] ?? 'Error',
          headers,
        };
        this.send(res, entry, errorResult(apiError));
        return;
      }

      const result = this.process(route, url.pathname, query, form, credentials);
      if (fault?.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'delay') {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.send(res, entry, result);
        }, fault.ms);
        this.timers.add(timer);
        return;
      }
      this.send(res, entry, result);
    } catch (err) {
      // A bug in the double, not a simulated outage: make it loud.
      console.error('TwilioDouble internal error', err);
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(errorBody({ status: 500, code: 20500, message: String(err) })));
      }
    }
  }

  private process(
    route: ReturnType<OpenApiIndex['match']>,
    pathname: string,
    query: ParamBag,
    form: ParamBag,
    credentials: { username: string; password: string } | undefined,
  ): ApiResult {
    if (route.kind === 'not-found') return errorResult(notFound(pathname));
    if (route.kind === 'method-not-allowed') {
      return errorResult({
        status: 405,
        code: 20004,
        message: 'Method not allowed',
        headers: { Allow: route.allowed.join(', ') },
      });
    }
    const { op, pathParams } = route;
    const pathAccountSid = pathParams.AccountSid ?? pathParams.Sid;
    const account = credentials && this.accounts.get(credentials.username);
    if (!account || account.authToken !== credentials.password || account.sid !== pathAccountSid) {
      return errorResult({ status: 401, code: 20003, message: 'Authenticate' });
    }
    // A malformed SID can never name a resource: Twilio answers 404, not 400.
    for (const p of op.pathParams) {
      if (p.schema.pattern && !new RegExp(p.schema.pattern).test(pathParams[p.name])) {
        return errorResult(notFound(pathname));
      }
    }
    const issue = this.spec.validate(op, query, form);
    if (issue) return errorResult(this.issueToError(op, issue));
    return this.dispatch({ op, pathParams, query, form, account, pathname });
  }

  private dispatch(ctx: RequestContext): ApiResult {
    switch (ctx.op.operationId) {
      case 'FetchAccount':
        return { status: 200, body: this.renderAccount(ctx.account) };
      case 'UpdateAccount':
        return this.updateAccountOp(ctx);
      case 'ListIncomingPhoneNumber':
        return this.listNumbers(ctx);
      case 'CreateIncomingPhoneNumber':
        return this.createNumber(ctx);
      case 'FetchIncomingPhoneNumber':
        return this.withNumber(ctx, (n) => ({ status: 200, body: structuredClone(n) }));
      case 'UpdateIncomingPhoneNumber':
        return this.updateNumber(ctx);
      case 'DeleteIncomingPhoneNumber':
        return this.withNumber(ctx, (n) => {
          this.numberResources.delete(n.sid);
          return { status: 204 };
        });
      case 'CreateMessage':
        return this.createMessage(ctx);
      case 'ListMessage':
        return this.listMessages(ctx);
      case 'FetchMessage':
        return this.withMessage(ctx, (m) => ({ status: 200, body: renderMessage(m) }));
      case 'UpdateMessage':
        return this.updateMessage(ctx);
      case 'DeleteMessage':
        return this.withMessage(ctx, (m) => {
          m.deleted = true;
          return { status: 204 };
        });
      default:
        // Only reachable if the document gains operations this double lacks.
        return errorResult(notFound(ctx.pathname));
    }
  }

  // ---- operations ----------------------------------------------------------------

  private updateAccountOp(ctx: RequestContext): ApiResult {
    const friendlyName = first(ctx.form, 'FriendlyName');
    const status = first(ctx.form, 'Status') as AccountStatus | undefined;
    if (friendlyName !== undefined) ctx.account.friendlyName = friendlyName;
    if (status !== undefined) ctx.account.status = status;
    ctx.account.dateUpdated = this.now();
    return { status: 200, body: this.renderAccount(ctx.account) };
  }

  private listNumbers(ctx: RequestContext): ApiResult {
    const phoneFilter = first(ctx.query, 'PhoneNumber')?.trim();
    const friendlyName = first(ctx.query, 'FriendlyName');
    const origin = first(ctx.query, 'Origin');
    const beta = first(ctx.query, 'Beta');
    // Per the document, PhoneNumber matches partial numbers and '*' is any digit.
    const phoneRegex = phoneFilter
      ? new RegExp(
          phoneFilter
            .split('')
            .map((c) => (c === '*' ? '\\d' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
            .join(''),
        )
      : undefined;
    const items = [...this.numberResources.values()].filter(
      (n) =>
        n.account_sid === ctx.account.sid &&
        (!phoneRegex || phoneRegex.test(n.phone_number)) &&
        (friendlyName === undefined || n.friendly_name === friendlyName) &&
        (origin === undefined || n.origin === origin) &&
        (beta?.toLowerCase() !== 'false' || n.beta !== true),
    );
    return this.page(ctx, 'incoming_phone_numbers', items, (n) => structuredClone(n));
  }

  private createNumber(ctx: RequestContext): ApiResult {
    if (ctx.account.status !== 'active') return errorResult(accountNotActive());
    const areaCode = first(ctx.form, 'AreaCode');
    const phoneNumber =
      first(ctx.form, 'PhoneNumber') ??
      (areaCode
        ? `+1${areaCode}555${String(Math.floor(Math.random() * 1e4)).padStart(4, '0')}`
        : undefined);
    if (!phoneNumber || !E164.test(phoneNumber)) {
      return errorResult({ status: 400, code: 21421, message: 'PhoneNumber is invalid' });
    }
    if (this.findNumber(phoneNumber)) {
      return errorResult({
        status: 400,
        code: 21422,
        message: `PhoneNumber ${phoneNumber} is not available`,
      });
    }
    const resource = this.newNumberResource(ctx.account.sid, phoneNumber, {
      sms: true,
      mms: true,
      voice: true,
      fax: false,
    });
    this.applyNumberFields(resource, ctx.form, ['PhoneNumber', 'AreaCode']);
    this.numberResources.set(resource.sid, resource);
    return { status: 201, body: structuredClone(resource) };
  }

  private updateNumber(ctx: RequestContext): ApiResult {
    return this.withNumber(ctx, (n) => {
      if (ctx.account.status !== 'active') return errorResult(accountNotActive());
      const newOwner = first(ctx.form, 'AccountSid');
      if (newOwner !== undefined && newOwner !== n.account_sid) {
        if (this.accounts.get(newOwner)?.status !== 'active') {
          return errorResult({
            status: 400,
            code: 21472,
            message: 'The AccountSid you specified is not an active Twilio Account',
          });
        }
        n.account_sid = newOwner;
        n.uri = `${BASE}/${newOwner}/IncomingPhoneNumbers/${n.sid}.json`;
      }
      this.applyNumberFields(n, ctx.form, ['AccountSid']);
      return { status: 200, body: structuredClone(n) };
    });
  }

  private createMessage(ctx: RequestContext): ApiResult {
    const { account, form } = ctx;
    if (account.status !== 'active') return errorResult(accountNotActive());
    const to = first(form, 'To');
    const from = first(form, 'From');
    const messagingServiceSid = first(form, 'MessagingServiceSid');
    const body = first(form, 'Body') ?? '';
    const mediaUrls = form.get('MediaUrl') ?? [];
    const contentSid = first(form, 'ContentSid');
    if (!to)
      return errorResult({ status: 400, code: 21604, message: "A 'To' phone number is required." });
    if (!from && !messagingServiceSid) {
      return errorResult({
        status: 400,
        code: 21603,
        message: "A 'From' phone number is required.",
      });
    }
    if (!body && mediaUrls.length === 0 && !contentSid) {
      return errorResult({ status: 400, code: 21602, message: 'Message body is required.' });
    }
    if (Array.from(body).length > MAX_BODY_CHARS) {
      return errorResult({
        status: 400,
        code: 21617,
        message: 'The concatenated message body exceeds the 1600 character limit.',
      });
    }
    if (!E164.test(to)) {
      return errorResult({ status: 400, code: 21211, message: `Invalid 'To' Phone Number: ${to}` });
    }
    if (from !== undefined) {
      const sender = this.findNumber(from);
      if (!sender || sender.account_sid !== account.sid || !sender.capabilities.sms) {
        return errorResult({
          status: 400,
          code: 21606,
          message: `The 'From' phone number provided (${from}) is not a valid message-capable Twilio phone number for this destination/account.`,
        });
      }
      if (from === to) {
        return errorResult({
          status: 400,
          code: 21266,
          message: `'To' and 'From' number cannot be the same: ${to}`,
        });
      }
    }
    const rejection = this.rejections.find((r) => r.to === undefined || r.to === to);
    if (rejection) return errorResult(rejection);

    const now = this.now();
    const message: RecordedMessage = {
      sid: randomSid(mediaUrls.length > 0 ? 'MM' : 'SM'),
      accountSid: account.sid,
      to,
      from: from ?? null,
      body,
      statusCallback: first(form, 'StatusCallback') ?? null,
      messagingServiceSid: messagingServiceSid ?? null,
      mediaUrls,
      // A Messaging Service send is 'accepted' until a sender is chosen.
      status: first(form, 'ScheduleType') === 'fixed' ? 'scheduled' : from ? 'queued' : 'accepted',
      errorCode: null,
      errorMessage: null,
      numSegments: countSegments(body).segments,
      receivedAt: now,
      updatedAt: now,
      sentAt: null,
      params: toRecord(form),
      deleted: false,
    };
    this.messages.push(message);
    for (const listener of this.messageListeners) {
      try {
        listener(message);
      } catch (err) {
        console.error('TwilioDouble onMessage listener threw', err);
      }
    }
    return { status: 201, body: renderMessage(message) };
  }

  private listMessages(ctx: RequestContext): ApiResult {
    const to = first(ctx.query, 'To');
    const from = first(ctx.query, 'From');
    const on = first(ctx.query, 'DateSent');
    const before = first(ctx.query, 'DateSent<');
    const after = first(ctx.query, 'DateSent>');
    const dateFiltered = on !== undefined || before !== undefined || after !== undefined;
    const listedBefore = this.now() - this.listLagMs;
    const items = this.messages
      .filter(
        (m) =>
          !m.deleted &&
          m.receivedAt <= listedBefore &&
          m.accountSid === ctx.account.sid &&
          (to === undefined || m.to === to) &&
          (from === undefined || m.from === from) &&
          (!dateFiltered ||
            (m.sentAt !== null &&
              (on === undefined || sameDateSent(m.sentAt, on)) &&
              (before === undefined || m.sentAt <= Date.parse(before)) &&
              (after === undefined || m.sentAt >= Date.parse(after)))),
      )
      .reverse(); // Twilio lists newest first.
    return this.page(ctx, 'messages', items, renderMessage);
  }

  private updateMessage(ctx: RequestContext): ApiResult {
    return this.withMessage(ctx, (m) => {
      const body = first(ctx.form, 'Body');
      const status = first(ctx.form, 'Status');
      // The API only allows redaction (empty Body) and cancelling scheduled sends.
      if (body !== undefined && body !== '') {
        return errorResult(invalidParam('Body', 'may only be set to an empty string (redaction)'));
      }
      if (status === 'canceled' && m.status !== 'scheduled') {
        return errorResult(invalidParam('Status', 'only scheduled messages can be canceled'));
      }
      if (body === '') m.body = '';
      if (status === 'canceled') m.status = 'canceled';
      m.updatedAt = this.now();
      return { status: 200, body: renderMessage(m) };
    });
  }

  // ---- helpers -------------------------------------------------------------------

  private page<T>(
    ctx: RequestContext,
    key: string,
    items: T[],
    render: (item: T) => unknown,
  ): ApiResult {
    const pageSize = Number(first(ctx.query, 'PageSize') ?? 50);
    const page = Number(first(ctx.query, 'Page') ?? 0);
    const start = page * pageSize;
    const slice = items.slice(start, start + pageSize);
    // Twilio echoes the filters, then its own paging parameters.
    const filters = new URLSearchParams();
    for (const [name, values] of ctx.query) {
      if (['PageSize', 'Page', 'PageToken'].includes(name)) continue;
      for (const v of values) filters.append(name, v);
    }
    const uriFor = (p: number, token?: string) => {
      const q = new URLSearchParams(filters);
      q.set('PageSize', String(pageSize));
      q.set('Page', String(p));
      if (token) q.set('PageToken', token);
      return `${ctx.pathname}?${q.toString()}`;
    };
    const hasNext = start + pageSize < items.length;
    return {
      status: 200,
      body: {
        [key]: slice.map(render),
        end: slice.length > 0 ? start + slice.length - 1 : start,
        first_page_uri: uriFor(0),
        next_page_uri: hasNext ? uriFor(page + 1, `PT${start + pageSize}`) : null,
        page,
        page_size: pageSize,
        previous_page_uri: page > 0 ? uriFor(page - 1, `PT${Math.max(0, start - pageSize)}`) : null,
        start,
        uri: uriFor(page, first(ctx.query, 'PageToken')),
      },
    };
  }

  private withNumber(ctx: RequestContext, fn: (n: NumberResource) => ApiResult): ApiResult {
    const n = this.numberResources.get(ctx.pathParams.Sid);
    if (!n || n.account_sid !== ctx.account.sid) return errorResult(notFound(ctx.pathname));
    return fn(n);
  }

  private withMessage(ctx: RequestContext, fn: (m: RecordedMessage) => ApiResult): ApiResult {
    const m = this.messages.find((x) => x.sid === ctx.pathParams.Sid && !x.deleted);
    if (!m || m.accountSid !== ctx.account.sid) return errorResult(notFound(ctx.pathname));
    return fn(m);
  }

  /** Copies form fields onto the resource by name (SmsUrl -> sms_url), as the schema types them. */
  private applyNumberFields(resource: NumberResource, form: ParamBag, skip: string[]): void {
    for (const [name, values] of form) {
      if (skip.includes(name)) continue;
      const prop = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
      if (!this.numberProps.has(prop)) continue;
      const value = values[0];
      if (/^(true|false)$/i.test(value) && typeof resource[prop] === 'boolean') {
        resource[prop] = value.toLowerCase() === 'true';
      } else if (prop.endsWith('_method')) {
        resource[prop] = value.toUpperCase();
      } else {
        resource[prop] = value;
      }
    }
    resource.date_updated = rfc2822(this.now());
  }

  private newNumberResource(
    accountSid: string,
    phoneNumber: string,
    capabilities: Capabilities,
  ): NumberResource {
    const sid = randomSid('PN');
    const now = rfc2822(this.now());
    // Defaults mirror the document's example of a freshly bought number.
    return {
      account_sid: accountSid,
      address_requirements: 'none',
      address_sid: null,
      api_version: API_VERSION,
      beta: false,
      capabilities,
      date_created: now,
      date_updated: now,
      emergency_status: 'Inactive',
      emergency_address_sid: null,
      emergency_address_status: 'unregistered',
      friendly_name: friendlyNumber(phoneNumber),
      identity_sid: null,
      origin: 'twilio',
      phone_number: phoneNumber,
      sid,
      sms_application_sid: '',
      sms_fallback_method: 'POST',
      sms_fallback_url: '',
      sms_method: 'POST',
      sms_url: '',
      status_callback: '',
      status_callback_method: 'POST',
      trunk_sid: null,
      uri: `${BASE}/${accountSid}/IncomingPhoneNumbers/${sid}.json`,
      voice_application_sid: '',
      voice_caller_id_lookup: false,
      voice_fallback_method: 'POST',
      voice_fallback_url: null,
      voice_method: 'POST',
      voice_url: null,
      bundle_sid: null,
      voice_receive_mode: 'voice',
      status: 'in-use',
      type: 'local',
    };
  }

  private renderAccount(account: AccountState): Record<string, unknown> {
    const subresources: Record<string, string> = {};
    for (const [name, template] of Object.entries(this.spec.accountSubresources())) {
      subresources[name] = template.replace('{AccountSid}', account.sid);
    }
    return {
      auth_token: account.authToken,
      date_created: rfc2822(account.dateCreated),
      date_updated: rfc2822(account.dateUpdated),
      friendly_name: account.friendlyName,
      owner_account_sid: account.sid,
      sid: account.sid,
      status: account.status,
      subresource_uris: subresources,
      type: account.type,
      uri: `${BASE}/${account.sid}.json`,
    };
  }

  private issueToError(op: OperationSpec, issue: ParamIssue): ApiError {
    switch (issue.kind) {
      case 'unknown':
        return {
          status: 400,
          code: 20001,
          message: `Unknown parameter: ${issue.param} (not defined for ${op.operationId} in the OpenAPI document)`,
        };
      case 'repeated':
        return invalidParam(issue.param, 'given more than once');
      case 'missing':
        if (op.operationId === 'CreateMessage' && issue.param === 'To') {
          return { status: 400, code: 21604, message: "A 'To' phone number is required." };
        }
        return { status: 400, code: 20001, message: `Missing required parameter ${issue.param}` };
      case 'invalid':
        if (issue.schema.format === 'uri') {
          // Twilio's codes for bad callback URLs on messages and on numbers.
          const code = op.operationId === 'CreateMessage' ? 21609 : 21502;
          return { status: 400, code, message: `Invalid ${issue.param} URL: ${issue.reason}` };
        }
        return invalidParam(issue.param, issue.reason);
    }
  }

  private addFault(n: number, filter: FaultFilter, action: FaultAction): void {
    // n = 0 would register a rule that never fires: almost certainly a test bug.
    if (!(n > 0)) throw new Error(`Fault count must be positive, got ${n}`);
    this.faults.push({ remaining: n, filter, action });
  }

  private takeFault(entry: RecordedRequest): FaultAction | undefined {
    const rule = this.faults.find(
      (f) =>
        f.remaining > 0 &&
        (f.filter.method === undefined || f.filter.method.toUpperCase() === entry.method) &&
        (f.filter.pathIncludes === undefined || entry.path.includes(f.filter.pathIncludes)) &&
        (f.filter.operationId === undefined || f.filter.operationId === entry.operationId),
    );
    if (!rule) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.faults = this.faults.filter((f) => f !== rule);
    return rule.action;
  }

  private send(res: ServerResponse, entry: RecordedRequest, result: ApiResult): void {
    entry.status = result.status;
    if (res.destroyed) return; // The client gave up (e.g. its timeout fired first).
    const headers: Record<string, string> = {
      'Twilio-Request-Id': randomSid('RQ'),
      // Node would stamp its own clock; Twilio's answer carries Twilio's.
      Date: new Date(this.now()).toUTCString(),
      ...result.headers,
    };
    if (result.body === undefined) {
      res.writeHead(result.status, headers);
      res.end();
      return;
    }
    res.writeHead(result.status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(result.body));
  }

  private async deliverWebhook(
    authToken: string,
    url: string,
    method: string,
    params: Record<string, string>,
    deliverTo?: string,
  ): Promise<WebhookDelivery> {
    // For GET, parameters travel in the query string and are part of the signed URL.
    const signedUrl = method === 'GET' ? appendQuery(url, params) : url;
    const signature = twilio.getExpectedTwilioSignature(
      authToken,
      signedUrl,
      method === 'GET' ? {} : params,
    );
    const target = deliverTo ? withQueryOf(deliverTo, signedUrl) : signedUrl;
    const response = await fetch(target, {
      method,
      headers: {
        'X-Twilio-Signature': signature,
        'User-Agent': 'TwilioProxy/1.1',
        ...(method === 'GET' ? {} : { 'Content-Type': 'application/x-www-form-urlencoded' }),
      },
      body: method === 'GET' ? undefined : new URLSearchParams(params).toString(),
    });
    return { status: response.status, body: await response.text(), params, signature };
  }

  private findNumber(phoneNumber: string): NumberResource | undefined {
    return [...this.numberResources.values()].find((n) => n.phone_number === phoneNumber);
  }

  private requireAccount(sid: string): AccountState {
    const account = this.accounts.get(sid);
    if (!account) throw new Error(`No account ${sid}; call addAccount first`);
    return account;
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

// ---- pure helpers ------------------------------------------------------------------

function renderMessage(m: RecordedMessage): Record<string, unknown> {
  const uri = `${BASE}/${m.accountSid}/Messages/${m.sid}`;
  return {
    account_sid: m.accountSid,
    api_version: API_VERSION,
    body: m.body,
    date_created: rfc2822(m.receivedAt),
    date_sent: m.sentAt === null ? null : rfc2822(m.sentAt),
    date_updated: rfc2822(m.updatedAt),
    direction: 'outbound-api',
    error_code: m.errorCode,
    error_message: m.errorMessage,
    from: m.from,
    messaging_service_sid: m.messagingServiceSid,
    num_media: String(m.mediaUrls.length),
    num_segments: String(m.numSegments),
    price: null,
    price_unit: 'USD',
    sid: m.sid,
    status: m.status,
    subresource_uris: { media: `${uri}/Media.json`, feedback: `${uri}/Feedback.json` },
    to: m.to,
    uri: `${uri}.json`,
  };
}

function errorBody(e: Pick<ApiError, 'status' | 'code' | 'message'>): Record<string, unknown> {
  return {
    code: e.code,
    message: e.message,
    more_info: `https://www.twilio.com/docs/errors/${e.code}`,
    status: e.status,
  };
}

function errorResult(e: ApiError | MessageRejection): ApiResult {
  return { status: e.status, body: errorBody(e), headers: 'headers' in e ? e.headers : undefined };
}

function notFound(pathname: string): ApiError {
  return {
    status: 404,
    code: 20404,
    message: `The requested resource ${pathname} was not found`,
  };
}

function accountNotActive(): ApiError {
  return { status: 401, code: 20005, message: 'Account not active' };
}

function invalidParam(param: string, reason: string): ApiError {
  return { status: 400, code: 20001, message: `Invalid parameter ${param}: ${reason}` };
}

function randomSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

/** Twilio's date format: RFC 2822 with a numeric zone, e.g. "Thu, 30 Jul 2015 20:00:00 +0000". */
function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

function friendlyNumber(e164: string): string {
  const nanp = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return nanp ? `(${nanp[1]}) ${nanp[2]}-${nanp[3]}` : e164;
}

function sameDateSent(sentAt: number, filter: string): boolean {
  // A bare date matches the whole (UTC) day; a timestamp matches to the second.
  if (/^\d{4}-\d{2}-\d{2}$/.test(filter)) return new Date(sentAt).toISOString().startsWith(filter);
  return Math.floor(sentAt / 1000) === Math.floor(Date.parse(filter) / 1000);
}

function first(bag: ParamBag, name: string): string | undefined {
  return bag.get(name)?.[0];
}

function toBag(params: URLSearchParams): ParamBag {
  const bag: ParamBag = new Map();
  for (const [name, value] of params) {
    const values = bag.get(name);
    if (values) values.push(value);
    else bag.set(name, [value]);
  }
  return bag;
}

function toRecord(bag: ParamBag): Params {
  const out: Params = {};
  for (const [name, values] of bag) out[name] = values.length === 1 ? values[0] : [...values];
  return out;
}

/** `target`, with `signed`'s query string unless it has one of its own. */
function withQueryOf(target: string, signed: string): string {
  const u = new URL(target);
  if (!u.search) u.search = new URL(signed).search;
  return u.toString();
}

function appendQuery(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.append(k, v);
  return u.toString();
}

function parseBasicAuth(
  header: string | undefined,
): { username: string; password: string } | undefined {
  const m = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
