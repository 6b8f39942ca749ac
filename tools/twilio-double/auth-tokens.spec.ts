import twilio from 'twilio';
import { account, client, CUSTOMER, double, NUMBER, useTwilioDouble } from './spec-harness';

describe('TwilioDouble Auth Token rotation (Accounts v1), driven by the real twilio SDK', () => {
  useTwilioDouble();

  const fetchWith = (authToken: string) =>
    client({ sid: account.sid, authToken })
      .api.api.v2010.accounts(account.sid)
      .fetch()
      .then(
        () => 'ok',
        (e: { status?: number }) => e.status,
      );

  it('a secondary authenticates beside the primary until promoted; then only it does', async () => {
    const secondary = await client().api.accounts.v1.secondaryAuthToken().create();
    expect(secondary.accountSid).toBe(account.sid);
    expect(secondary.secondaryAuthToken).toMatch(/^[0-9a-f]{32}$/);
    const newToken = secondary.secondaryAuthToken;
    expect(await fetchWith(account.authToken)).toBe('ok');
    expect(await fetchWith(newToken)).toBe('ok');

    const promoted = await client().api.accounts.v1.authTokenPromotion().update();
    expect(promoted.authToken).toBe(newToken);
    expect(await fetchWith(account.authToken)).toBe(401);
    expect(await fetchWith(newToken)).toBe('ok');
    expect(double.account(account.sid)).toMatchObject({
      authToken: newToken,
      secondaryAuthToken: null,
    });
  });

  it('signs webhooks with the primary only, before and after the promotion', async () => {
    const url = 'https://app.example.com/api/webhooks/twilio/sms';
    const signedBy = async (token: string) => {
      const delivery = await double.sendInboundMessage({
        to: NUMBER,
        from: CUSTOMER,
        body: 'hi',
        url,
        deliverTo: `${double.url}/webhook-sink`,
      });
      return twilio.validateRequest(token, delivery.signature, url, delivery.params);
    };
    const { secondaryAuthToken } = await client().api.accounts.v1.secondaryAuthToken().create();
    expect(await signedBy(account.authToken)).toBe(true);
    expect(await signedBy(secondaryAuthToken)).toBe(false);
    await client().api.accounts.v1.authTokenPromotion().update();
    expect(await signedBy(secondaryAuthToken)).toBe(true);
    expect(await signedBy(account.authToken)).toBe(false);
  });

  it('deleting the secondary stops it authenticating; promote without one is 404', async () => {
    const { secondaryAuthToken } = await client().api.accounts.v1.secondaryAuthToken().create();
    await client().api.accounts.v1.secondaryAuthToken().remove();
    expect(await fetchWith(secondaryAuthToken)).toBe(401);
    const error = await client()
      .api.accounts.v1.authTokenPromotion()
      .update()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, code: 20404 });
  });

  it('answers 401 / 20003 to a wrong token on Accounts v1 too', async () => {
    const error = await client({ sid: account.sid, authToken: '0'.repeat(32) })
      .api.accounts.v1.secondaryAuthToken()
      .create()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 401, code: 20003 });
  });
});
