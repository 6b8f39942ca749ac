/** Messages (v2010): what the app sends through Twilio, and what tests read back. */
import {
  accountNotActive,
  ACCOUNTS_PATH,
  API_VERSION,
  E164,
  errorResult,
  first,
  invalidParam,
  invalidUrl,
  listPage,
  notFound,
  randomSid,
  rfc2822,
  toRecord,
  type ApiError,
  type ApiResult,
  type Params,
  type RequestContext,
  type Resource,
} from './api';
import type { TwilioClock } from './clock';
import type { Faults } from './faults';
import type { IncomingPhoneNumbers } from './incoming-phone-numbers';
import type { MessagingServices } from './messaging-services';
import type { OperationSpec, ParamIssue } from './openapi';
import { countSegments } from './segments';

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
  /** When the create request was processed, on Twilio's clock (see TwilioClock). */
  receivedAt: number;
  updatedAt: number;
  sentAt: number | null;
  /** Every form parameter of the create request. */
  params: Params;
  /** Set by DELETE Messages/{Sid}.json; the message then 404s over the API. */
  deleted: boolean;
}

const MAX_BODY_CHARS = 1600;

export class Messages implements Resource {
  /** Every message created through POST Messages.json, in order. */
  readonly recorded: RecordedMessage[] = [];
  /** See TwilioDouble.setListLag. */
  listLagMs = 0;
  private readonly listeners = new Set<(m: RecordedMessage) => void>();

  constructor(
    private readonly clock: TwilioClock,
    private readonly numbers: IncomingPhoneNumbers,
    private readonly services: MessagingServices,
    private readonly faults: Faults,
  ) {}

  readonly operations = {
    CreateMessage: (ctx: RequestContext) => this.create(ctx),
    ListMessage: (ctx: RequestContext) => this.list(ctx),
    FetchMessage: (ctx: RequestContext) =>
      this.withMessage(ctx, (m) => ({ status: 200, body: renderMessage(m) })),
    UpdateMessage: (ctx: RequestContext) => this.update(ctx),
    DeleteMessage: (ctx: RequestContext) =>
      this.withMessage(ctx, (m) => {
        m.deleted = true;
        return { status: 204 };
      }),
  };

  parameterError(op: OperationSpec, issue: ParamIssue): ApiError | undefined {
    if (op.operationId === 'CreateMessage' && issue.kind === 'missing' && issue.param === 'To') {
      return { status: 400, code: 21604, message: "A 'To' phone number is required." };
    }
    return invalidUrl(issue, 21609);
  }

  get(sid: string): RecordedMessage | undefined {
    return this.recorded.find((m) => m.sid === sid);
  }

  /** What a later fetch returns; no callback is sent (see Webhooks.sendStatusCallback). */
  setStatus(sid: string, status: MessageStatus, errorCode?: number): RecordedMessage {
    const message = this.get(sid);
    if (!message) throw new Error(`No message ${sid}`);
    const now = this.clock.now();
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

  /** Called synchronously for each created message; returns an unsubscribe function. */
  onMessage(listener: (message: RecordedMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the (matching) messages once there are at least `count`. */
  waitFor(
    count: number,
    timeoutMs: number,
    predicate: (m: RecordedMessage) => boolean,
  ): Promise<RecordedMessage[]> {
    const current = () => this.recorded.filter(predicate);
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

  clear(): void {
    this.recorded.length = 0;
  }

  private create(ctx: RequestContext): ApiResult {
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
      const sender = this.numbers.find(from);
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
    if (messagingServiceSid !== undefined) {
      const refusal = this.services.sendRefusal(account.sid, messagingServiceSid, from);
      if (refusal) return errorResult(refusal);
    }
    const rejection = this.faults.messageRejectionFor(to);
    if (rejection) return errorResult(rejection);

    const now = this.clock.now();
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
    this.recorded.push(message);
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch (err) {
        console.error('TwilioDouble onMessage listener threw', err);
      }
    }
    return { status: 201, body: renderMessage(message) };
  }

  private list(ctx: RequestContext): ApiResult {
    const to = first(ctx.query, 'To');
    const from = first(ctx.query, 'From');
    const on = first(ctx.query, 'DateSent');
    const before = first(ctx.query, 'DateSent<');
    const after = first(ctx.query, 'DateSent>');
    const dateFiltered = on !== undefined || before !== undefined || after !== undefined;
    const listedBefore = this.clock.now() - this.listLagMs;
    const items = this.recorded
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
    return listPage(ctx, 'messages', items, renderMessage);
  }

  private update(ctx: RequestContext): ApiResult {
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
      m.updatedAt = this.clock.now();
      return { status: 200, body: renderMessage(m) };
    });
  }

  private withMessage(ctx: RequestContext, fn: (m: RecordedMessage) => ApiResult): ApiResult {
    const m = this.recorded.find((x) => x.sid === ctx.pathParams.Sid && !x.deleted);
    if (!m || m.accountSid !== ctx.account.sid) return errorResult(notFound(ctx.pathname));
    return fn(m);
  }
}

function renderMessage(m: RecordedMessage): Record<string, unknown> {
  const uri = `${ACCOUNTS_PATH}/${m.accountSid}/Messages/${m.sid}`;
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

function sameDateSent(sentAt: number, filter: string): boolean {
  // A bare date matches the whole (UTC) day; a timestamp matches to the second.
  if (/^\d{4}-\d{2}-\d{2}$/.test(filter)) return new Date(sentAt).toISOString().startsWith(filter);
  return Math.floor(sentAt / 1000) === Math.floor(Date.parse(filter) / 1000);
}
