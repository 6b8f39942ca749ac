import twilio from 'twilio';
import { account, client, CUSTOMER, double, NUMBER, send, useTwilioDouble } from './spec-harness';

describe('TwilioDouble fault injection, driven by the real twilio SDK', () => {
  useTwilioDouble();

  it('failNext answers 503 for matching requests only, then recovers', async () => {
    double.failNext(1, { status: 503 }, { operationId: 'CreateMessage' });
    await expect(client().api.api.v2010.accounts(account.sid).fetch()).resolves.toBeDefined();
    const error = await send().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(twilio.RestException);
    expect(error).toMatchObject({ status: 503, code: 20503 });
    expect(double.messages).toHaveLength(0);
    await expect(send()).resolves.toMatchObject({ status: 'queued' });
    expect(double.requests.map((r) => r.fault)).toEqual([null, 'error', null]);
  });

  it('a 429 carries Retry-After, readable through the SDK client', async () => {
    double.failNext(
      1,
      { status: 429, retryAfter: 7 },
      { method: 'POST', pathIncludes: '/Messages.json' },
    );
    const { api, httpClient } = client();
    const error = await api.messages
      .create({ to: CUSTOMER, from: NUMBER, body: 'hi' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 429, code: 20429 });
    expect(httpClient.lastResponse?.headers['retry-after']).toBe('7');
  });

  it('delayNext beyond the client timeout makes the SDK fail, though Twilio acted', async () => {
    double.delayNext(1, 1500, { operationId: 'CreateMessage' });
    const { api } = client(account, { timeout: 200 });
    const started = Date.now();
    const error = await api.messages
      .create({ to: CUSTOMER, from: NUMBER, body: 'slow' })
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1400);
    expect(error).not.toBeInstanceOf(twilio.RestException);
    expect(error).toMatchObject({ code: 'ECONNABORTED' });
    // The "did it send?" case: the message exists although the client saw an error.
    expect(double.messages.map((m) => m.body)).toEqual(['slow']);
  });

  it('dropNext destroys the socket: a network error, nothing recorded', async () => {
    double.dropNext(1, { operationId: 'CreateMessage' });
    const error = await send().catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(twilio.RestException);
    expect(error).toMatchObject({ code: 'ECONNRESET' });
    expect(double.messages).toHaveLength(0);
    expect(double.requests.at(-1)).toMatchObject({ fault: 'drop', status: null });

    double.dropNext(1, { operationId: 'CreateMessage', afterProcessing: true });
    await expect(send()).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(double.messages).toHaveLength(1);
  });
});
