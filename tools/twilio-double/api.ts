/**
 * What every resource of the double shares: the request it is handed, the answer it gives, and
 * Twilio's error shapes, paging, SIDs and dates. A resource is a class with an `operations` table
 * (operationId → handler) for the operations of the OpenAPI documents it implements; the server
 * (server.ts) has already authenticated the account and validated every parameter.
 */
import { randomBytes } from 'node:crypto';
import type { AccountState } from './accounts';
import type { OperationId, OperationSpec, ParamBag, ParamIssue } from './openapi';

export const API_VERSION = '2010-04-01';
/** Where v2010 resources live: `${ACCOUNTS_PATH}/{AccountSid}/…`. */
export const ACCOUNTS_PATH = `/${API_VERSION}/Accounts`;
export const E164 = /^\+[1-9]\d{6,14}$/;

export type Params = Record<string, string | string[]>;

export interface ApiError {
  status: number;
  code: number;
  message: string;
  headers?: Record<string, string>;
}

export interface ApiResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RequestContext {
  op: OperationSpec;
  pathParams: Record<string, string>;
  query: ParamBag;
  form: ParamBag;
  /** The account the request authenticated as. */
  account: AccountState;
  pathname: string;
}

export type OperationHandler = (ctx: RequestContext) => ApiResult;

export interface Resource {
  readonly operations: Partial<Record<OperationId, OperationHandler>>;
  /** Twilio's own error for a parameter the document refuses, where it has one. */
  parameterError?(op: OperationSpec, issue: ParamIssue): ApiError | undefined;
}

export function errorBody(
  e: Pick<ApiError, 'status' | 'code' | 'message'>,
): Record<string, unknown> {
  return {
    code: e.code,
    message: e.message,
    more_info: `https://www.twilio.com/docs/errors/${e.code}`,
    status: e.status,
  };
}

export function errorResult(
  e: Pick<ApiError, 'status' | 'code' | 'message' | 'headers'>,
): ApiResult {
  return { status: e.status, body: errorBody(e), headers: e.headers };
}

export function notFound(pathname: string): ApiError {
  return {
    status: 404,
    code: 20404,
    message: `The requested resource ${pathname} was not found`,
  };
}

export function accountNotActive(): ApiError {
  return { status: 401, code: 20005, message: 'Account not active' };
}

export function invalidParam(param: string, reason: string): ApiError {
  return { status: 400, code: 20001, message: `Invalid parameter ${param}: ${reason}` };
}

/** Twilio's answer to a parameter the document refuses, unless the resource has its own code. */
export function parameterIssueError(op: OperationSpec, issue: ParamIssue): ApiError {
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
      return { status: 400, code: 20001, message: `Missing required parameter ${issue.param}` };
    case 'invalid':
      return invalidParam(issue.param, issue.reason);
  }
}

/** Twilio's code for a callback URL it refuses (21609 on messages, 21502 on numbers). */
export function invalidUrl(issue: ParamIssue, code: number): ApiError | undefined {
  if (issue.kind !== 'invalid' || issue.schema.format !== 'uri') return undefined;
  return { status: 400, code, message: `Invalid ${issue.param} URL: ${issue.reason}` };
}

export function randomSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

/** Twilio's date format: RFC 2822 with a numeric zone, e.g. "Thu, 30 Jul 2015 20:00:00 +0000". */
export function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

export function first(bag: ParamBag, name: string): string | undefined {
  return bag.get(name)?.[0];
}

export function toBag(params: URLSearchParams): ParamBag {
  const bag: ParamBag = new Map();
  for (const [name, value] of params) {
    const values = bag.get(name);
    if (values) values.push(value);
    else bag.set(name, [value]);
  }
  return bag;
}

export function toRecord(bag: ParamBag): Params {
  const out: Params = {};
  for (const [name, values] of bag) out[name] = values.length === 1 ? values[0] : [...values];
  return out;
}

/** The page a list request asks for (PageSize, Page), and its first item's index. */
export function pageWindow(ctx: RequestContext): { pageSize: number; page: number; start: number } {
  const pageSize = Number(first(ctx.query, 'PageSize') ?? 50);
  const page = Number(first(ctx.query, 'Page') ?? 0);
  return { pageSize, page, start: page * pageSize };
}

/**
 * Copies form fields onto a resource by name (SmsUrl -> sms_url), for the properties its schema
 * has, typed as the resource holds them; `emptyUrlIsNull`: an empty URL renders as null.
 */
export function copyFormFields(
  resource: Record<string, unknown>,
  form: ParamBag,
  properties: Set<string>,
  options: { skip?: string[]; emptyUrlIsNull?: boolean } = {},
): void {
  for (const [name, values] of form) {
    if (options.skip?.includes(name)) continue;
    const prop = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
    if (!properties.has(prop)) continue;
    const value = values[0];
    if (/^(true|false)$/i.test(value) && typeof resource[prop] === 'boolean') {
      resource[prop] = value.toLowerCase() === 'true';
    } else if (prop.endsWith('_method')) {
      resource[prop] = value.toUpperCase();
    } else if (typeof resource[prop] === 'number') {
      resource[prop] = Number(value);
    } else {
      resource[prop] =
        value === '' && options.emptyUrlIsNull && prop.endsWith('_url') ? null : value;
    }
  }
}

/** One page of a list operation, with the paging fields and URIs Twilio renders. */
export function listPage<T>(
  ctx: RequestContext,
  key: string,
  items: T[],
  render: (item: T) => unknown,
): ApiResult {
  const { pageSize, page, start } = pageWindow(ctx);
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
