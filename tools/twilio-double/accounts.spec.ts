import twilio from 'twilio';
import { account, client, double, useTwilioDouble } from './spec-harness';

describe('TwilioDouble accounts, driven by the real twilio SDK', () => {
  useTwilioDouble();

  it('fetches the account with valid credentials', async () => {
    const fetched = await client().api.api.v2010.accounts(account.sid).fetch();
    expect(fetched.sid).toBe(account.sid);
    expect(fetched.sid).toMatch(/^AC[0-9a-f]{32}$/);
    expect(account.authToken).toMatch(/^[0-9a-f]{32}$/);
    expect(fetched.status).toBe('active');
    expect(fetched.type).toBe('Full');
    expect(fetched.friendlyName).toBe('Customer A');
    expect(fetched.dateCreated).toBeInstanceOf(Date);
    expect(Number.isNaN(fetched.dateCreated.getTime())).toBe(false);
  });

  it('reports suspended accounts', async () => {
    const suspended = double.addAccount({ status: 'suspended', type: 'Trial' });
    const fetched = await client(suspended).api.api.v2010.accounts(suspended.sid).fetch();
    expect(fetched.status).toBe('suspended');
    expect(fetched.type).toBe('Trial');
  });

  it('answers 401 / 20003 to a wrong token', async () => {
    const bad = client({ sid: account.sid, authToken: '0'.repeat(32) }).api;
    const error = await bad.api.v2010
      .accounts(account.sid)
      .fetch()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(twilio.RestException);
    expect(error).toMatchObject({
      status: 401,
      code: 20003,
      message: 'Authenticate',
      moreInfo: 'https://www.twilio.com/docs/errors/20003',
    });
  });

  it("answers 401 when the credentials are another account's", async () => {
    const other = double.addAccount();
    const error = await client(other)
      .api.api.v2010.accounts(account.sid)
      .fetch()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 401, code: 20003 });
  });

  it('answers 401 to an unknown account SID', async () => {
    const ghost = { sid: `AC${'a'.repeat(32)}`, authToken: 'b'.repeat(32) };
    const error = await client(ghost)
      .api.api.v2010.accounts(ghost.sid)
      .fetch()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 401, code: 20003 });
  });
});
