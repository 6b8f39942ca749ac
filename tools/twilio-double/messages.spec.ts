import {
  account,
  client,
  CUSTOMER,
  double,
  NUMBER,
  OTHER_NUMBER,
  raw,
  send,
  useTwilioDouble,
} from './spec-harness';

describe('TwilioDouble messages, driven by the real twilio SDK', () => {
  useTwilioDouble();

  it('creates a message (201, queued) and records it', async () => {
    const before = Date.now();
    const created = await send();
    expect(created.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(created).toMatchObject({
      status: 'queued',
      to: CUSTOMER,
      from: NUMBER,
      body: 'Hello from the bot',
      accountSid: account.sid,
      numSegments: '1',
      errorCode: null,
      direction: 'outbound-api',
    });
    expect(double.messages).toHaveLength(1);
    expect(double.messages[0]).toMatchObject({
      sid: created.sid,
      accountSid: account.sid,
      to: CUSTOMER,
      from: NUMBER,
      body: 'Hello from the bot',
      statusCallback: 'https://app.example.com/twilio/status',
      status: 'queued',
    });
    expect(double.messages[0].receivedAt).toBeGreaterThanOrEqual(before);
    expect(double.requests.at(-1)?.status).toBe(201);

    const fetched = await client().api.messages(created.sid).fetch();
    expect(fetched.sid).toBe(created.sid);
    double.setMessageStatus(created.sid, 'delivered');
    expect((await client().api.messages(created.sid).fetch()).status).toBe('delivered');
  });

  it('counts segments like Twilio', async () => {
    expect((await send('a'.repeat(161))).numSegments).toBe('2');
    expect((await send('🙂'.repeat(36))).numSegments).toBe('2');
  });

  it('lets tests await messages', async () => {
    const seen: string[] = [];
    const unsubscribe = double.onMessage((m) => seen.push(m.body));
    const waiting = double.waitForMessages(2, 2000);
    await send('one');
    await send('two');
    await expect(waiting).resolves.toHaveLength(2);
    unsubscribe();
    expect(seen).toEqual(['one', 'two']);
    await expect(double.waitForMessages(3, 50)).rejects.toThrow(/expected 3 message/);
  });

  it('answers 404 for an unknown message', async () => {
    const error = await client()
      .api.messages(`SM${'0'.repeat(32)}`)
      .fetch()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, code: 20404 });
  });

  it.each([
    ['no To', { From: NUMBER, Body: 'hi' }, 21604],
    ['no From', { To: CUSTOMER, Body: 'hi' }, 21603],
    ['no Body', { To: CUSTOMER, From: NUMBER }, 21602],
    ['a non-E.164 To', { To: '0401234567', From: NUMBER, Body: 'hi' }, 21211],
    ['a From not on the account', { To: CUSTOMER, From: OTHER_NUMBER, Body: 'hi' }, 21606],
    ['a 1601-character Body', { To: CUSTOMER, From: NUMBER, Body: 'x'.repeat(1601) }, 21617],
    [
      'an invalid StatusCallback URL',
      { To: CUSTOMER, From: NUMBER, Body: 'hi', StatusCallback: 'nope' },
      21609,
    ],
  ])('refuses %s with code %i', async (_label, params, code) => {
    const res = await raw('POST', '/Messages.json', params);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code, status: 400 });
    expect(double.messages).toHaveLength(0);
  });

  it("renders dates, and stamps its answers' Date header, from a skewed clock", async () => {
    double.setClockSkew(-60_000);
    try {
      const created = await send();
      // date_created has whole seconds: within a second or two of our clock less 60 s.
      expect(Math.abs(created.dateCreated.getTime() - (Date.now() - 60_000))).toBeLessThan(2_500);
      const res = await raw('GET', `/Messages/${created.sid}.json`);
      const date = Date.parse(res.headers.get('date') ?? '');
      expect(Math.abs(date - (Date.now() - 60_000))).toBeLessThan(2_500);
      expect(res.body.date_created).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    } finally {
      double.setClockSkew(0);
    }
  });

  it('with a list lag, lists a message only once it is old enough (a fetch finds it at once)', async () => {
    double.setListLag(60_000);
    try {
      const created = await send();
      expect(await client().api.messages.list({ to: CUSTOMER, from: NUMBER })).toHaveLength(0);
      expect((await client().api.messages(created.sid).fetch()).sid).toBe(created.sid);
      double.setListLag(0);
      expect(
        (await client().api.messages.list({ to: CUSTOMER, from: NUMBER })).map((m) => m.sid),
      ).toEqual([created.sid]);
    } finally {
      double.setListLag(0);
    }
  });

  it('accepts a 1600-character body', async () => {
    await expect(send('x'.repeat(1600))).resolves.toMatchObject({ numSegments: '11' });
  });

  it('refuses sends from a suspended account with 20005', async () => {
    double.updateAccount(account.sid, { status: 'suspended' });
    await expect(send()).rejects.toMatchObject({ status: 401, code: 20005 });
  });

  it('rejects with a configured permanent error until reset', async () => {
    double.rejectMessagesWith(21610, 'Attempt to send to unsubscribed recipient', 400, {
      to: CUSTOMER,
    });
    await expect(send()).rejects.toMatchObject({ status: 400, code: 21610 });
    await expect(
      client().api.messages.create({ to: '+358501110000', from: NUMBER, body: 'ok' }),
    ).resolves.toMatchObject({ status: 'queued' });
    double.clearFaults();
    await expect(send()).resolves.toMatchObject({ status: 'queued' });
  });
});
