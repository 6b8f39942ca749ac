/** Accounts (v2010 `Accounts/{Sid}.json`): who may call the API, with which Auth Token. */
import { randomBytes } from 'node:crypto';
import {
  ACCOUNTS_PATH,
  first,
  randomSid,
  rfc2822,
  type ApiResult,
  type RequestContext,
  type Resource,
} from './api';
import type { TwilioClock } from './clock';
import type { OpenApiIndex } from './openapi';

export type AccountStatus = 'active' | 'suspended' | 'closed';
export type AccountType = 'Trial' | 'Full';

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
  /** Accounts v1 `AuthTokens/Secondary` (auth-tokens.ts): also authenticates REST calls. */
  secondaryAuthToken: string | null;
  status: AccountStatus;
  type: AccountType;
  friendlyName: string;
  dateCreated: number;
  dateUpdated: number;
}

export interface BasicCredentials {
  username: string;
  password: string;
}

export class Accounts implements Resource {
  private readonly accounts = new Map<string, AccountState>();

  constructor(
    private readonly clock: TwilioClock,
    private readonly spec: OpenApiIndex,
  ) {}

  readonly operations = {
    FetchAccount: (ctx: RequestContext): ApiResult => ({
      status: 200,
      body: this.render(ctx.account),
    }),
    UpdateAccount: (ctx: RequestContext): ApiResult => {
      const friendlyName = first(ctx.form, 'FriendlyName');
      const status = first(ctx.form, 'Status') as AccountStatus | undefined;
      if (friendlyName !== undefined) ctx.account.friendlyName = friendlyName;
      if (status !== undefined) ctx.account.status = status;
      ctx.account.dateUpdated = this.clock.now();
      return { status: 200, body: this.render(ctx.account) };
    },
  };

  add(options: AddAccountOptions = {}): AccountCredentials {
    const sid = options.sid ?? randomSid('AC');
    if (!/^AC[0-9a-fA-F]{32}$/.test(sid)) throw new Error(`Invalid account SID ${sid}`);
    if (this.accounts.has(sid)) throw new Error(`Account ${sid} already exists`);
    const now = this.clock.now();
    const account: AccountState = {
      sid,
      authToken: options.authToken ?? randomBytes(16).toString('hex'),
      secondaryAuthToken: null,
      status: options.status ?? 'active',
      type: options.type ?? 'Full',
      friendlyName: options.friendlyName ?? 'My first Twilio account',
      dateCreated: now,
      dateUpdated: now,
    };
    this.accounts.set(sid, account);
    return { sid, authToken: account.authToken };
  }

  update(
    sid: string,
    patch: Partial<Pick<AccountState, 'status' | 'type' | 'friendlyName' | 'authToken'>>,
  ): AccountState {
    const account = this.require(sid);
    Object.assign(account, patch, { dateUpdated: this.clock.now() });
    return { ...account };
  }

  /** A copy of the account's state. */
  get(sid: string): AccountState | undefined {
    const account = this.accounts.get(sid);
    return account && { ...account };
  }

  /** The account itself (not a copy), for the other resources. */
  require(sid: string): AccountState {
    const account = this.accounts.get(sid);
    if (!account) throw new Error(`No account ${sid}; call addAccount first`);
    return account;
  }

  /** The account Basic auth names, if its primary or secondary Auth Token matches. */
  authenticate(credentials: BasicCredentials | undefined): AccountState | undefined {
    const account = credentials && this.accounts.get(credentials.username);
    if (!account || !credentials) return undefined;
    return [account.authToken, account.secondaryAuthToken].includes(credentials.password)
      ? account
      : undefined;
  }

  clear(): void {
    this.accounts.clear();
  }

  private render(account: AccountState): Record<string, unknown> {
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
      uri: `${ACCOUNTS_PATH}/${account.sid}.json`,
    };
  }
}
