import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { resolve } from 'node:path';
import { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { OPENAPI_PATH, OpenApiIndex } from '../../src/dev/twilio-double/openapi';
import { countSegments } from '../../src/dev/twilio-double/segments';
import { AccountCredentials, TwilioDouble } from '../../src/dev/twilio-double/twilio-double';
import { REPO_ROOT } from '../support/app-process';
import { RewritingRequestClient, rewriteUri } from './rewriting-request-client';

const NUMBER = '+358401234567';
const OTHER_NUMBER = '+358409999999';
const CUSTOMER = '+358501112233';

describe('TwilioDouble driven by the real twilio SDK', () => {
  let double: TwilioDouble;
  let account: AccountCredentials;
  let numberSid: string;

  const client = (
    creds: AccountCredentials = account,
    options?: ConstructorParameters<typeof RewritingRequestClient>[1],
  ) => {
    const httpClient = new RewritingRequestClient(double.url, options);
    return { api: twilio(creds.sid, creds.authToken, { httpClient }), httpClient };
  };

  /** Raw request, for what the SDK will not send (unknown parameters, missing To). */
  const raw = async (
    method: 'GET' | 'POST',
    path: string,
    params: Record<string, string> = {},
    creds: AccountCredentials = account,
  ) => {
    const encoded = new URLSearchParams(params).toString();
    const res = await fetch(
      `${double.url}/2010-04-01/Accounts/${creds.sid}${path}${method === 'GET' && encoded ? `?${encoded}` : ''}`,
      {
        method,
        headers: {
          Authorization: `Basic ${Buffer.from(`${creds.sid}:${creds.authToken}`).toString('base64')}`,
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: method === 'POST' ? encoded : undefined,
      },
    );
    return {
      status: res.status,
      headers: res.headers,
      body: (await res.json()) as Record<string, unknown>,
    };
  };

  const send = (body = 'Hello from the bot') =>
    client().api.messages.create({
      to: CUSTOMER,
      from: NUMBER,
      body,
      statusCallback: 'https://app.example.com/twilio/status',
    });

  beforeAll(async () => {
    double = await TwilioDouble.start();
  });
  afterAll(async () => {
    await double.stop();
  });
  beforeEach(() => {
    double.reset();
    account = double.addAccount({ friendlyName: 'Customer A' });
    numberSid = double.addNumber(account.sid, { phoneNumber: NUMBER }).sid;
  });

  describe('accounts', () => {
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

  describe('incoming phone numbers', () => {
    it('filters the list by PhoneNumber', async () => {
      double.addNumber(account.sid, { phoneNumber: OTHER_NUMBER, sms: false });
      const { api } = client();

      const found = await api.incomingPhoneNumbers.list({ phoneNumber: NUMBER });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({
        sid: numberSid,
        accountSid: account.sid,
        phoneNumber: NUMBER,
        capabilities: { sms: true, mms: true, voice: true, fax: false },
        smsUrl: '',
        smsMethod: 'POST',
      });
      expect(numberSid).toMatch(/^PN[0-9a-f]{32}$/);

      const other = await api.incomingPhoneNumbers.list({ phoneNumber: OTHER_NUMBER });
      expect(other.map((n) => n.capabilities.sms)).toEqual([false]);
      expect(await api.incomingPhoneNumbers.list({ phoneNumber: '+358400000000' })).toEqual([]);
      expect(await api.incomingPhoneNumbers.list()).toHaveLength(2);
    });

    it("does not show another account's numbers", async () => {
      const other = double.addAccount();
      double.addNumber(other.sid, { phoneNumber: OTHER_NUMBER });
      const list = await client().api.incomingPhoneNumbers.list({ phoneNumber: OTHER_NUMBER });
      expect(list).toEqual([]);
    });

    it('matches partial numbers and * wildcards, as the document specifies', async () => {
      double.addNumber(account.sid, { phoneNumber: OTHER_NUMBER });
      const { api } = client();
      expect(await api.incomingPhoneNumbers.list({ phoneNumber: '4012345' })).toHaveLength(1);
      expect(await api.incomingPhoneNumbers.list({ phoneNumber: '+35840*' })).toHaveLength(2);
    });

    it('pages with next_page_uri, which the SDK follows', async () => {
      double.addNumber(account.sid, { phoneNumber: '+358401000001' });
      double.addNumber(account.sid, { phoneNumber: '+358401000002' });
      const all = await client().api.incomingPhoneNumbers.list({ pageSize: 2 });
      expect(all).toHaveLength(3);
      const listCalls = double.requests.filter((r) => r.operationId === 'ListIncomingPhoneNumber');
      expect(listCalls.map((r) => r.query.Page)).toEqual([undefined, '1']);

      const page = await raw('GET', '/IncomingPhoneNumbers.json', { PageSize: '2' });
      expect(page.body).toMatchObject({ page: 0, page_size: 2, start: 0, end: 1 });
      expect(page.body.next_page_uri).toMatch(/PageSize=2&Page=1&PageToken=/);
      expect(page.body.previous_page_uri).toBeNull();
    });

    it('persists SmsUrl and SmsMethod updates', async () => {
      const { api } = client();
      const updated = await api.incomingPhoneNumbers(numberSid).update({
        smsUrl: 'https://app.example.com/twilio/sms',
        smsMethod: 'POST',
      });
      expect(updated.smsUrl).toBe('https://app.example.com/twilio/sms');
      expect(double.numbers(account.sid)[0]).toMatchObject({
        smsUrl: 'https://app.example.com/twilio/sms',
        smsMethod: 'POST',
      });
      const [listed] = await api.incomingPhoneNumbers.list({ phoneNumber: NUMBER });
      expect(listed.smsUrl).toBe('https://app.example.com/twilio/sms');
      expect(double.requests.at(-2)?.form).toEqual({
        SmsUrl: 'https://app.example.com/twilio/sms',
        SmsMethod: 'POST',
      });
    });

    it('refuses values the schema forbids', async () => {
      const badMethod = await raw('POST', `/IncomingPhoneNumbers/${numberSid}.json`, {
        SmsMethod: 'PUT',
      });
      expect(badMethod.status).toBe(400);
      expect(badMethod.body.message).toMatch(/SmsMethod/);
      const badUrl = await raw('POST', `/IncomingPhoneNumbers/${numberSid}.json`, {
        SmsUrl: 'not a url',
      });
      expect(badUrl.body).toMatchObject({ status: 400, code: 21502 });
      expect(double.numbers(account.sid)[0].smsUrl).toBe('');
    });

    it('answers 404 / 20404 for an unknown number', async () => {
      const error = await client()
        .api.incomingPhoneNumbers(`PN${'0'.repeat(32)}`)
        .update({ smsUrl: 'https://x.example.com' })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 404, code: 20404 });
    });
  });

  describe('messages', () => {
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
        expect(res.body.date_created).toMatch(
          /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/,
        );
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

  describe('parameters the document does not define', () => {
    it('refuses an unknown form parameter with 400 / 20001', async () => {
      const res = await raw('POST', '/Messages.json', {
        To: CUSTOMER,
        From: NUMBER,
        Body: 'hi',
        StatusCallbackUrl: 'https://app.example.com/status',
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 20001, status: 400 });
      expect(res.body.message).toContain('StatusCallbackUrl');
      expect(double.messages).toHaveLength(0);
    });

    it('refuses an unknown query parameter', async () => {
      const res = await raw('GET', '/IncomingPhoneNumbers.json', { PhoneNumbr: NUMBER });
      expect(res.body).toMatchObject({ code: 20001, status: 400 });
      expect(res.body.message).toContain('PhoneNumbr');
    });

    it('takes the whitelist from the OpenAPI file', () => {
      const spec = OpenApiIndex.load();
      const create = spec.operations.find((o) => o.operationId === 'CreateMessage');
      expect(create?.method).toBe('POST');
      expect([...(create?.form.keys() ?? [])]).toEqual(
        expect.arrayContaining(['To', 'From', 'Body', 'StatusCallback', 'MessagingServiceSid']),
      );
      expect(create?.form.get('To')?.required).toBe(true);
    });
  });

  describe('response shapes', () => {
    it('only uses property names the document defines', async () => {
      const spec = OpenApiIndex.load();
      const allowed = (schema: string) => spec.schemaProperties(schema);
      const accountRes = await raw('GET', '.json');
      expect(allowed('api.v2010.account')).toEqual(
        expect.arrayContaining(Object.keys(accountRes.body)),
      );
      expect(accountRes.body.auth_token).toBe(account.authToken);
      expect(accountRes.body.date_created).toMatch(
        /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/,
      );

      const list = await raw('GET', '/IncomingPhoneNumbers.json');
      const [number] = list.body.incoming_phone_numbers as Record<string, unknown>[];
      expect(allowed('api.v2010.account.incoming_phone_number')).toEqual(
        expect.arrayContaining(Object.keys(number)),
      );

      const message = await raw('POST', '/Messages.json', {
        To: CUSTOMER,
        From: NUMBER,
        Body: 'hi',
      });
      expect(message.status).toBe(201);
      expect(allowed('api.v2010.account.message')).toEqual(
        expect.arrayContaining(Object.keys(message.body)),
      );
    });

    it('answers 404 / 20404 for paths outside the document, 405 for undefined methods', async () => {
      const unknown = await raw('GET', '/Calls.json');
      expect(unknown.body).toMatchObject({ code: 20404, status: 404 });
      const res = await fetch(`${double.url}/2010-04-01/Accounts/${account.sid}.json`, {
        method: 'PUT',
      });
      expect(res.headers.get('allow')).toBe('GET, POST');
      expect(await res.json()).toMatchObject({ code: 20004, status: 405 });
      expect(res.status).toBe(405);
    });
  });

  describe('fault injection', () => {
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

  describe('webhooks', () => {
    let receiver: http.Server;
    let receiverUrl: string;
    const received: { url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];

    beforeAll(async () => {
      receiver = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          received.push({ url: req.url ?? '', headers: req.headers, body });
          res.writeHead(200, { 'Content-Type': 'text/xml' });
          res.end('<Response/>');
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    });
    beforeEach(() => {
      received.length = 0;
    });

    it('sends a signed inbound SMS to the number sms_url', async () => {
      const publicUrl = 'https://bot.example.com/twilio/sms';
      await client()
        .api.incomingPhoneNumbers(numberSid)
        .update({ smsUrl: publicUrl, smsMethod: 'POST' });
      const delivery = await double.sendInboundMessage({
        to: NUMBER,
        from: CUSTOMER,
        body: 'STOP',
        extra: { OptOutType: 'STOP' },
        deliverTo: `${receiverUrl}/twilio/sms`,
      });
      expect(delivery.status).toBe(200);
      const [request] = received;
      const params = Object.fromEntries(new URLSearchParams(request.body));
      expect(params).toMatchObject({
        From: CUSTOMER,
        To: NUMBER,
        Body: 'STOP',
        OptOutType: 'STOP',
      });
      expect(params.MessageSid).toMatch(/^SM[0-9a-f]{32}$/);
      const signature = request.headers['x-twilio-signature'] as string;
      expect(twilio.validateRequest(account.authToken, signature, publicUrl, params)).toBe(true);
      expect(twilio.validateRequest('f'.repeat(32), signature, publicUrl, params)).toBe(false);
    });

    it('sends a signed status callback and updates the message', async () => {
      const created = await client().api.messages.create({
        to: CUSTOMER,
        from: NUMBER,
        body: 'hi',
        statusCallback: `${receiverUrl}/twilio/status`,
      });
      await double.sendStatusCallback(created.sid, 'undelivered', { errorCode: 30003 });
      const params = Object.fromEntries(new URLSearchParams(received[0].body));
      expect(params).toMatchObject({
        MessageSid: created.sid,
        MessageStatus: 'undelivered',
        ErrorCode: '30003',
      });
      expect(
        twilio.validateRequest(
          account.authToken,
          received[0].headers['x-twilio-signature'] as string,
          `${receiverUrl}/twilio/status`,
          params,
        ),
      ).toBe(true);
      const fetched = await client().api.messages(created.sid).fetch();
      expect(fetched).toMatchObject({ status: 'undelivered', errorCode: 30003 });
    });

    it('signs the StatusCallback with its query string, and delivers it there at deliverTo', async () => {
      const statusCallback = 'https://bot.example.com/twilio/status?messageId=42&x=a%20b';
      const created = await client().api.messages.create({
        to: CUSTOMER,
        from: NUMBER,
        body: 'hi',
        statusCallback,
      });
      await double.sendStatusCallback(created.sid, 'delivered', {
        deliverTo: `${receiverUrl}/twilio/status`,
      });
      expect(received[0].url).toBe('/twilio/status?messageId=42&x=a%20b');
      const params = Object.fromEntries(new URLSearchParams(received[0].body));
      const signature = received[0].headers['x-twilio-signature'] as string;
      expect(twilio.validateRequest(account.authToken, signature, statusCallback, params)).toBe(
        true,
      );
      expect(
        twilio.validateRequest(
          account.authToken,
          signature,
          'https://bot.example.com/twilio/status',
          params,
        ),
      ).toBe(false);
    });
  });
});

describe('segments', () => {
  it.each([
    ['a', 160, 'GSM-7', 1],
    ['a', 161, 'GSM-7', 2],
    ['a', 306, 'GSM-7', 2],
    ['a', 307, 'GSM-7', 3],
    ['€', 80, 'GSM-7', 1],
    ['€', 81, 'GSM-7', 2],
    ['ä', 160, 'GSM-7', 1],
    ['ж', 70, 'UCS-2', 1],
    ['ж', 71, 'UCS-2', 2],
    ['🙂', 35, 'UCS-2', 1],
    ['🙂', 36, 'UCS-2', 2],
  ])('%s x%i is %s in %i segment(s)', (char, times, encoding, segments) => {
    const body = char.repeat(times);
    expect(countSegments(body)).toEqual({ encoding, segments });
  });
});

describe('rewriteUri', () => {
  it('rewrites Twilio API hosts and refuses others', () => {
    expect(
      rewriteUri('https://api.twilio.com/2010-04-01/Accounts/AC1.json', 'http://127.0.0.1:1'),
    ).toBe('http://127.0.0.1:1/2010-04-01/Accounts/AC1.json');
    expect(() => rewriteUri('https://example.com/x', 'http://127.0.0.1:1')).toThrow(/refusing/);
  });
});

describe('the shipped copy of the Twilio OpenAPI subset', () => {
  const shared = resolve(REPO_ROOT, '..', 'shared', 'twilio', 'api_v2010_sms_subset.openapi.json');

  (existsSync(shared) ? it : it.skip)('is identical to ../shared/twilio', () => {
    expect(readFileSync(OPENAPI_PATH, 'utf8')).toBe(readFileSync(shared, 'utf8'));
  });
});
