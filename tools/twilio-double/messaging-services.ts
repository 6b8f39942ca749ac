/**
 * Messaging Services (Messaging v1, `https://messaging.twilio.com`): the services of an account,
 * their sender pools (PhoneNumbers), where a service number's inbound messages go, and which
 * service a send may name. A number is in at most one service.
 */
import {
  copyFormFields,
  errorResult,
  first,
  invalidUrl,
  notFound,
  pageWindow,
  randomSid,
  type ApiError,
  type ApiResult,
  type RequestContext,
  type Resource,
} from './api';
import type { Accounts } from './accounts';
import type { TwilioClock } from './clock';
import type {
  HttpMethodName,
  IncomingPhoneNumbers,
  NumberResource,
} from './incoming-phone-numbers';
import type { OpenApiIndex, OperationSpec, ParamBag, ParamIssue } from './openapi';

/** Messaging v1's own origin; its list pages carry absolute URLs on it, as Twilio renders them. */
export const MESSAGING_ORIGIN = 'https://messaging.twilio.com';
const SERVICES_PATH = '/v1/Services';

export interface AddMessagingServiceOptions {
  sid?: string;
  friendlyName?: string;
  /** The service's own inbound URL (`inbound_request_url`); default none. */
  inboundRequestUrl?: string;
  inboundMethod?: HttpMethodName;
  /** Default false, as for a service created over the API: the service's own URL is used. */
  useInboundWebhookOnNumber?: boolean;
  /** `us_app_to_person_registered`: an A2P 10DLC campaign is registered on it. Default false. */
  usA2pRegistered?: boolean;
}

/** The resource as the API renders it (snake_case). */
export type ServiceResource = Record<string, unknown> & {
  sid: string;
  account_sid: string;
  friendly_name: string;
  inbound_request_url: string | null;
  inbound_method: string;
  use_inbound_webhook_on_number: boolean;
  us_app_to_person_registered: boolean;
};

export interface MessagingServiceState {
  sid: string;
  accountSid: string;
  friendlyName: string;
  inboundRequestUrl: string | null;
  inboundMethod: string;
  useInboundWebhookOnNumber: boolean;
  usA2pRegistered: boolean;
  /** The PN SIDs of its sender pool, in the order they were added. */
  phoneNumberSids: string[];
}

/** Where Twilio posts an inbound message to a number, and the service it names, if any. */
export interface InboundRoute {
  url: string;
  method: string;
  messagingServiceSid: string | null;
}

export class MessagingServices implements Resource {
  private readonly services = new Map<string, ServiceResource>();
  /** Service SID → (PN SID → when it joined the pool). */
  private readonly pools = new Map<string, Map<string, number>>();
  private readonly properties: Set<string>;
  private readonly links: Record<string, string>;

  constructor(
    private readonly clock: TwilioClock,
    spec: OpenApiIndex,
    private readonly accounts: Accounts,
    private readonly numbers: IncomingPhoneNumbers,
  ) {
    this.properties = new Set(spec.schemaProperties('messaging.v1.service'));
    this.links = spec.dependentResourceUrls(`${SERVICES_PATH}/{Sid}`);
  }

  readonly operations = {
    ListService: (ctx: RequestContext) =>
      this.page(
        ctx,
        'services',
        [...this.services.values()].filter((s) => s.account_sid === ctx.account.sid),
        (s) => this.render(s),
      ),
    CreateService: (ctx: RequestContext) => {
      const service = this.newService(ctx.account.sid, randomSid('MG'));
      this.applyFields(service, ctx.form);
      return { status: 201, body: this.render(service) };
    },
    FetchService: (ctx: RequestContext) =>
      this.withService(ctx, ctx.pathParams.Sid, (s) => ({ status: 200, body: this.render(s) })),
    UpdateService: (ctx: RequestContext) =>
      this.withService(ctx, ctx.pathParams.Sid, (s) => {
        this.applyFields(s, ctx.form);
        return { status: 200, body: this.render(s) };
      }),
    DeleteService: (ctx: RequestContext) =>
      this.withService(ctx, ctx.pathParams.Sid, (s) => {
        this.services.delete(s.sid);
        this.pools.delete(s.sid);
        return { status: 204 };
      }),
    ListPhoneNumber: (ctx: RequestContext) =>
      this.withService(ctx, ctx.pathParams.ServiceSid, (s) =>
        this.page(ctx, 'phone_numbers', this.poolOf(s.sid), (entry) =>
          this.renderPoolNumber(s, entry.number, entry.addedAt),
        ),
      ),
    CreatePhoneNumber: (ctx: RequestContext) =>
      this.withService(ctx, ctx.pathParams.ServiceSid, (s) => {
        const number = this.numbers.get(first(ctx.form, 'PhoneNumberSid') ?? '');
        if (!number || number.account_sid !== ctx.account.sid) {
          return errorResult({ status: 400, code: 21421, message: 'PhoneNumberSid is invalid' });
        }
        const refusal = this.joinRefusal(number);
        if (refusal) return errorResult(refusal);
        this.join(s.sid, number.sid);
        return {
          status: 201,
          body: this.renderPoolNumber(s, number, this.pools.get(s.sid)!.get(number.sid)!),
        };
      }),
    FetchPhoneNumber: (ctx: RequestContext) =>
      this.withPoolNumber(ctx, (s, entry) => ({
        status: 200,
        body: this.renderPoolNumber(s, entry.number, entry.addedAt),
      })),
    DeletePhoneNumber: (ctx: RequestContext) =>
      this.withPoolNumber(ctx, (s, entry) => {
        this.pools.get(s.sid)?.delete(entry.number.sid);
        return { status: 204 };
      }),
  };

  parameterError(_op: OperationSpec, issue: ParamIssue): ApiError | undefined {
    return invalidUrl(issue, 21502);
  }

  add(accountSid: string, options: AddMessagingServiceOptions = {}): { sid: string } {
    this.accounts.require(accountSid);
    const sid = options.sid ?? randomSid('MG');
    if (!/^MG[0-9a-fA-F]{32}$/.test(sid)) throw new Error(`Invalid Messaging Service SID ${sid}`);
    if (this.services.has(sid)) throw new Error(`Messaging Service ${sid} already exists`);
    const service = this.newService(accountSid, sid);
    if (options.friendlyName) service.friendly_name = options.friendlyName;
    service.inbound_request_url = options.inboundRequestUrl ?? null;
    service.inbound_method = options.inboundMethod ?? 'POST';
    service.use_inbound_webhook_on_number = options.useInboundWebhookOnNumber ?? false;
    service.us_app_to_person_registered = options.usA2pRegistered ?? false;
    return { sid };
  }

  /** Adds a number to a service's sender pool, as the Console does; throws what the API refuses. */
  addNumber(serviceSid: string, phoneNumber: string): void {
    const service = this.require(serviceSid);
    const number = this.numbers.find(phoneNumber);
    if (!number || number.account_sid !== service.account_sid) {
      throw new Error(`${phoneNumber} is not a number of ${service.account_sid}`);
    }
    const refusal = this.joinRefusal(number);
    if (refusal) throw new Error(refusal.message);
    this.join(serviceSid, number.sid);
  }

  update(
    sid: string,
    patch: Partial<Omit<MessagingServiceState, 'sid' | 'accountSid' | 'phoneNumberSids'>>,
  ): MessagingServiceState {
    const service = this.require(sid);
    if (patch.friendlyName !== undefined) service.friendly_name = patch.friendlyName;
    if (patch.inboundRequestUrl !== undefined)
      service.inbound_request_url = patch.inboundRequestUrl;
    if (patch.inboundMethod !== undefined) service.inbound_method = patch.inboundMethod;
    if (patch.useInboundWebhookOnNumber !== undefined)
      service.use_inbound_webhook_on_number = patch.useInboundWebhookOnNumber;
    if (patch.usA2pRegistered !== undefined)
      service.us_app_to_person_registered = patch.usA2pRegistered;
    return this.state(service);
  }

  get(sid: string): MessagingServiceState | undefined {
    const service = this.services.get(sid);
    return service && this.state(service);
  }

  /** The service whose pool holds the number (PN SID), if any. */
  serviceOf(numberSid: string): ServiceResource | undefined {
    for (const [sid, pool] of this.pools) if (pool.has(numberSid)) return this.services.get(sid);
    return undefined;
  }

  /**
   * Where Twilio sends an inbound message to `number`: a number outside any service, or in a
   * service that defers to its numbers, uses its own SmsUrl; otherwise the service's inbound URL
   * is used and the number's SmsUrl is ignored. Null: Twilio calls nothing.
   */
  inboundRoute(number: NumberResource): InboundRoute | null {
    const service = this.serviceOf(number.sid);
    const [url, method] =
      !service || service.use_inbound_webhook_on_number
        ? [number.sms_url, number.sms_method]
        : [service.inbound_request_url, service.inbound_method];
    return url ? { url, method, messagingServiceSid: service?.sid ?? null } : null;
  }

  /**
   * Why Messages.create may not name this service (with `from`, if given), as Twilio refuses it:
   * 21701 not on the account, 21704 an empty sender pool. A `From` outside the pool is refused
   * too (with 21606, as a `From` the account cannot send from; the pages we read do not say
   * which code Twilio gives this case).
   */
  sendRefusal(accountSid: string, serviceSid: string, from: string | undefined): ApiError | null {
    const service = this.services.get(serviceSid);
    if (!service || service.account_sid !== accountSid) {
      return {
        status: 400,
        code: 21701,
        message: `The Messaging Service ${serviceSid} does not exist`,
      };
    }
    const pool = this.poolOf(serviceSid);
    if (pool.length === 0) {
      return {
        status: 400,
        code: 21704,
        message: 'The Messaging Service contains no phone numbers',
      };
    }
    if (from !== undefined && !pool.some((entry) => entry.number.phone_number === from)) {
      return {
        status: 400,
        code: 21606,
        message: `The 'From' phone number provided (${from}) is not in the sender pool of Messaging Service ${serviceSid}.`,
      };
    }
    return null;
  }

  clear(): void {
    this.services.clear();
    this.pools.clear();
  }

  private joinRefusal(number: NumberResource): ApiError | null {
    if (this.serviceOf(number.sid)) {
      return {
        status: 400,
        code: 21710,
        message: 'Phone Number or Short Code is already in the Messaging Service.',
      };
    }
    if (!number.capabilities.sms && !number.capabilities.mms) {
      return {
        status: 400,
        code: 21715,
        message: 'Phone Number does not have correct Messaging Service capabilities',
      };
    }
    return null;
  }

  private join(serviceSid: string, numberSid: string): void {
    let pool = this.pools.get(serviceSid);
    if (!pool) this.pools.set(serviceSid, (pool = new Map()));
    pool.set(numberSid, this.clock.now());
  }

  /** The numbers still on the account, in the order they joined. */
  private poolOf(serviceSid: string): { number: NumberResource; addedAt: number }[] {
    const out: { number: NumberResource; addedAt: number }[] = [];
    for (const [numberSid, addedAt] of this.pools.get(serviceSid) ?? []) {
      const number = this.numbers.get(numberSid);
      if (number) out.push({ number, addedAt });
    }
    return out;
  }

  private require(sid: string): ServiceResource {
    const service = this.services.get(sid);
    if (!service) throw new Error(`No Messaging Service ${sid}; call addMessagingService first`);
    return service;
  }

  private withService(
    ctx: RequestContext,
    sid: string,
    fn: (s: ServiceResource) => ApiResult,
  ): ApiResult {
    const service = this.services.get(sid);
    if (!service || service.account_sid !== ctx.account.sid) {
      return errorResult(notFound(ctx.pathname));
    }
    return fn(service);
  }

  /** The pool entry `Sid` (a PN SID) names. */
  private withPoolNumber(
    ctx: RequestContext,
    fn: (s: ServiceResource, entry: { number: NumberResource; addedAt: number }) => ApiResult,
  ): ApiResult {
    return this.withService(ctx, ctx.pathParams.ServiceSid, (s) => {
      const sid = ctx.pathParams.Sid;
      const entry = this.poolOf(s.sid).find((e) => e.number.sid === sid);
      return entry ? fn(s, entry) : errorResult(notFound(ctx.pathname));
    });
  }

  private applyFields(service: ServiceResource, form: ParamBag): void {
    copyFormFields(service, form, this.properties, { emptyUrlIsNull: true });
    service.date_updated = iso(this.clock.now());
  }

  private newService(accountSid: string, sid: string): ServiceResource {
    const now = iso(this.clock.now());
    const url = `${MESSAGING_ORIGIN}${SERVICES_PATH}/${sid}`;
    const links: Record<string, string> = {};
    for (const [key, template] of Object.entries(this.links)) {
      links[key] = MESSAGING_ORIGIN + template.replace(/\{[a-z_]+\}/, sid);
    }
    // Defaults mirror a service created over the API.
    const service: ServiceResource = {
      account_sid: accountSid,
      area_code_geomatch: true,
      date_created: now,
      date_updated: now,
      fallback_method: 'POST',
      fallback_to_long_code: true,
      fallback_url: null,
      friendly_name: 'My Messaging Service',
      inbound_method: 'POST',
      inbound_request_url: null,
      links,
      mms_converter: true,
      scan_message_content: 'inherit',
      sid,
      smart_encoding: true,
      status_callback: null,
      sticky_sender: true,
      synchronous_validation: false,
      url,
      us_app_to_person_registered: false,
      use_inbound_webhook_on_number: false,
      usecase: 'undeclared',
      validity_period: 14400,
    };
    this.services.set(sid, service);
    return service;
  }

  private render(service: ServiceResource): Record<string, unknown> {
    return structuredClone(service);
  }

  private renderPoolNumber(
    service: ServiceResource,
    number: NumberResource,
    addedAt: number,
  ): Record<string, unknown> {
    const capabilities = Object.entries(number.capabilities)
      .filter(([, enabled]) => enabled)
      .map(([name]) => name.toUpperCase());
    return {
      account_sid: service.account_sid,
      capabilities,
      country_code: number.phone_number.startsWith('+1') ? 'US' : null,
      date_created: iso(addedAt),
      date_updated: iso(addedAt),
      phone_number: number.phone_number,
      service_sid: service.sid,
      sid: number.sid,
      url: `${MESSAGING_ORIGIN}${SERVICES_PATH}/${service.sid}/PhoneNumbers/${number.sid}`,
    };
  }

  /** Messaging v1's list shape: the items under `key` and a `meta` block of absolute URLs. */
  private page<T>(
    ctx: RequestContext,
    key: string,
    items: T[],
    render: (item: T) => unknown,
  ): ApiResult {
    const { pageSize, page, start } = pageWindow(ctx);
    const urlFor = (p: number) =>
      `${MESSAGING_ORIGIN}${ctx.pathname}?PageSize=${pageSize}&Page=${p}` +
      (p > 0 ? `&PageToken=PT${p * pageSize}` : '');
    return {
      status: 200,
      body: {
        [key]: items.slice(start, start + pageSize).map(render),
        meta: {
          first_page_url: urlFor(0),
          key,
          next_page_url: start + pageSize < items.length ? urlFor(page + 1) : null,
          page,
          page_size: pageSize,
          previous_page_url: page > 0 ? urlFor(page - 1) : null,
          url: urlFor(page),
        },
      },
    };
  }

  private state(service: ServiceResource): MessagingServiceState {
    return {
      sid: service.sid,
      accountSid: service.account_sid,
      friendlyName: service.friendly_name,
      inboundRequestUrl: service.inbound_request_url,
      inboundMethod: service.inbound_method,
      useInboundWebhookOnNumber: service.use_inbound_webhook_on_number,
      usA2pRegistered: service.us_app_to_person_registered,
      phoneNumberSids: this.poolOf(service.sid).map((entry) => entry.number.sid),
    };
  }
}

/** Messaging v1 renders ISO 8601 dates ("2015-07-30T20:12:31Z"), not v2010's RFC 2822. */
function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
