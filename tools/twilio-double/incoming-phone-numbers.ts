/** IncomingPhoneNumbers (v2010): the numbers of an account, their SmsUrl and capabilities. */
import {
  accountNotActive,
  ACCOUNTS_PATH,
  API_VERSION,
  copyFormFields,
  E164,
  errorResult,
  first,
  invalidUrl,
  listPage,
  notFound,
  randomSid,
  rfc2822,
  type ApiError,
  type ApiResult,
  type RequestContext,
  type Resource,
} from './api';
import type { Accounts } from './accounts';
import type { TwilioClock } from './clock';
import type { OpenApiIndex, OperationSpec, ParamBag, ParamIssue } from './openapi';

export type HttpMethodName = 'GET' | 'POST';

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

/** The resource as the API renders it. */
export type NumberResource = Record<string, unknown> & {
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

export class IncomingPhoneNumbers implements Resource {
  private readonly resources = new Map<string, NumberResource>();
  /** The properties of the resource schema: form fields are copied onto these only. */
  private readonly properties: Set<string>;

  constructor(
    private readonly clock: TwilioClock,
    spec: OpenApiIndex,
    private readonly accounts: Accounts,
  ) {
    this.properties = new Set(spec.schemaProperties('api.v2010.account.incoming_phone_number'));
  }

  readonly operations = {
    ListIncomingPhoneNumber: (ctx: RequestContext) => this.list(ctx),
    CreateIncomingPhoneNumber: (ctx: RequestContext) => this.create(ctx),
    FetchIncomingPhoneNumber: (ctx: RequestContext) =>
      this.withNumber(ctx, (n) => ({ status: 200, body: structuredClone(n) })),
    UpdateIncomingPhoneNumber: (ctx: RequestContext) => this.update(ctx),
    DeleteIncomingPhoneNumber: (ctx: RequestContext) =>
      this.withNumber(ctx, (n) => {
        this.resources.delete(n.sid);
        return { status: 204 };
      }),
  };

  parameterError(_op: OperationSpec, issue: ParamIssue): ApiError | undefined {
    return invalidUrl(issue, 21502);
  }

  add(accountSid: string, options: AddNumberOptions): { sid: string } {
    this.accounts.require(accountSid);
    const { phoneNumber } = options;
    if (!E164.test(phoneNumber)) throw new Error(`${phoneNumber} is not an E.164 number`);
    if (this.find(phoneNumber)) throw new Error(`${phoneNumber} is already on an account`);
    const sms = options.sms ?? true;
    const resource = this.newResource(accountSid, phoneNumber, {
      sms,
      mms: options.mms ?? sms,
      voice: options.voice ?? true,
      fax: false,
    });
    resource.sms_url = options.smsUrl ?? '';
    resource.sms_method = options.smsMethod ?? 'POST';
    if (options.friendlyName) resource.friendly_name = options.friendlyName;
    if (options.type) resource.type = options.type;
    this.resources.set(resource.sid, resource);
    return { sid: resource.sid };
  }

  of(accountSid: string): NumberState[] {
    return [...this.resources.values()]
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

  /** The number with this PN SID, on any account. */
  get(sid: string): NumberResource | undefined {
    return this.resources.get(sid);
  }

  /** The number on any account (a number is on one account at most). */
  find(phoneNumber: string): NumberResource | undefined {
    return [...this.resources.values()].find((n) => n.phone_number === phoneNumber);
  }

  clear(): void {
    this.resources.clear();
  }

  private list(ctx: RequestContext): ApiResult {
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
    const items = [...this.resources.values()].filter(
      (n) =>
        n.account_sid === ctx.account.sid &&
        (!phoneRegex || phoneRegex.test(n.phone_number)) &&
        (friendlyName === undefined || n.friendly_name === friendlyName) &&
        (origin === undefined || n.origin === origin) &&
        (beta?.toLowerCase() !== 'false' || n.beta !== true),
    );
    return listPage(ctx, 'incoming_phone_numbers', items, (n) => structuredClone(n));
  }

  private create(ctx: RequestContext): ApiResult {
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
    if (this.find(phoneNumber)) {
      return errorResult({
        status: 400,
        code: 21422,
        message: `PhoneNumber ${phoneNumber} is not available`,
      });
    }
    const resource = this.newResource(ctx.account.sid, phoneNumber, {
      sms: true,
      mms: true,
      voice: true,
      fax: false,
    });
    this.applyFields(resource, ctx.form, ['PhoneNumber', 'AreaCode']);
    this.resources.set(resource.sid, resource);
    return { status: 201, body: structuredClone(resource) };
  }

  private update(ctx: RequestContext): ApiResult {
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
        n.uri = `${ACCOUNTS_PATH}/${newOwner}/IncomingPhoneNumbers/${n.sid}.json`;
      }
      this.applyFields(n, ctx.form, ['AccountSid']);
      return { status: 200, body: structuredClone(n) };
    });
  }

  private withNumber(ctx: RequestContext, fn: (n: NumberResource) => ApiResult): ApiResult {
    const n = this.resources.get(ctx.pathParams.Sid);
    if (!n || n.account_sid !== ctx.account.sid) return errorResult(notFound(ctx.pathname));
    return fn(n);
  }

  private applyFields(resource: NumberResource, form: ParamBag, skip: string[]): void {
    copyFormFields(resource, form, this.properties, { skip });
    resource.date_updated = rfc2822(this.clock.now());
  }

  private newResource(
    accountSid: string,
    phoneNumber: string,
    capabilities: Capabilities,
  ): NumberResource {
    const sid = randomSid('PN');
    const now = rfc2822(this.clock.now());
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
      uri: `${ACCOUNTS_PATH}/${accountSid}/IncomingPhoneNumbers/${sid}.json`,
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
}

function friendlyNumber(e164: string): string {
  const nanp = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return nanp ? `(${nanp[1]}) ${nanp[2]}-${nanp[3]}` : e164;
}
