/**
 * Accounts v1 Auth Tokens (`/v1/AuthTokens/Secondary`, `/v1/AuthTokens/Promote`): Twilio's way to
 * rotate an Auth Token without downtime. While a secondary exists both tokens authenticate REST
 * calls (accounts.ts); webhooks are always signed with the primary (webhooks.ts), so promoting
 * switches every signature to the new token and the old one stops authenticating at once.
 */
import { randomBytes } from 'node:crypto';
import type { ApiResult, RequestContext, Resource } from './api';
import type { AccountState } from './accounts';
import type { TwilioClock } from './clock';

const ACCOUNTS_ORIGIN = 'https://accounts.twilio.com';

export class AuthTokens implements Resource {
  /** When each account's secondary was created (Twilio renders it as date_created). */
  private readonly createdAt = new WeakMap<AccountState, number>();

  constructor(private readonly clock: TwilioClock) {}

  readonly operations = {
    CreateSecondaryAuthToken: (ctx: RequestContext): ApiResult => {
      const now = this.clock.now();
      ctx.account.secondaryAuthToken = randomBytes(16).toString('hex');
      this.createdAt.set(ctx.account, now);
      return {
        status: 201,
        body: {
          account_sid: ctx.account.sid,
          date_created: iso(now),
          date_updated: iso(now),
          secondary_auth_token: ctx.account.secondaryAuthToken,
          url: `${ACCOUNTS_ORIGIN}/v1/AuthTokens/Secondary`,
        },
      };
    },
    DeleteSecondaryAuthToken: (ctx: RequestContext): ApiResult => {
      if (!ctx.account.secondaryAuthToken) return noSecondary(ctx.pathname);
      ctx.account.secondaryAuthToken = null;
      return { status: 204 };
    },
    UpdateAuthTokenPromotion: (ctx: RequestContext): ApiResult => {
      const secondary = ctx.account.secondaryAuthToken;
      if (!secondary) return noSecondary(ctx.pathname);
      const now = this.clock.now();
      ctx.account.authToken = secondary;
      ctx.account.secondaryAuthToken = null;
      ctx.account.dateUpdated = now;
      return {
        status: 200,
        body: {
          account_sid: ctx.account.sid,
          auth_token: secondary,
          date_created: iso(this.createdAt.get(ctx.account) ?? now),
          date_updated: iso(now),
          url: `${ACCOUNTS_ORIGIN}/v1/AuthTokens/Promote`,
        },
      };
    },
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function noSecondary(pathname: string): ApiResult {
  return {
    status: 404,
    body: {
      code: 20404,
      message: `The requested resource ${pathname} was not found: the account has no secondary Auth Token`,
      more_info: 'https://www.twilio.com/docs/errors/20404',
      status: 404,
    },
  };
}
