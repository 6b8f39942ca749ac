import { DataSource } from 'typeorm';
import { authTokenAad } from '../src/modules/channels/sms-channel-tokens';
import { CredentialCipher } from '../src/modules/crypto/credential-cipher';
import { Secret } from '../src/common/secret';
import { TEST_PUBLIC_BASE_URL, authed } from './support/test-app';
import {
  ConnectedChannel,
  connectChannel,
  countRows,
  eventually,
  randomMessageSid,
  randomNumber,
  signedPost,
  SmsTestContext,
  startSmsTestApp,
  textFromCustomer,
} from './support/sms-fixtures';

const WEBHOOK = '/api/webhooks/twilio/sms';
const STATUS = '/api/webhooks/twilio/sms/status';

describe('inbound SMS answered by the agent', () => {
  let ctx: SmsTestContext;

  beforeAll(async () => {
    ctx = await startSmsTestApp();
  });
  afterAll(() => ctx.close());
  afterEach(() => ctx.twilio.clearFaults());

  const db = () => ctx.t.running.app.get(DataSource);
  const repliesTo = (customer: string) => ctx.twilio.messages.filter((m) => m.to === customer);
  const messagesOf = async (channel: ConnectedChannel, customer: string) =>
    db().query(
      `SELECT m.* FROM messages m JOIN conversations c ON c.id = m.conversation_id
       WHERE c.chatbot_id = $1 AND c.customer_number = $2 ORDER BY m.created_at, m.id`,
      [channel.chatbotId, customer],
    );
  const conversationOf = async (channel: ConnectedChannel, customer: string) =>
    (
      await db().query(
        `SELECT * FROM conversations WHERE chatbot_id = $1 AND customer_number = $2`,
        [channel.chatbotId, customer],
      )
    )[0];
  const inboundParams = (
    channel: ConnectedChannel,
    from: string,
    body: string,
    extra: Record<string, string> = {},
  ) => ({
    MessageSid: randomMessageSid(),
    AccountSid: channel.accountSid,
    From: from,
    To: channel.phoneNumber,
    Body: body,
    NumMedia: '0',
    ...extra,
  });

  it('answers an SMS end to end: 200 <Response/> at once, reply from the same number, conversation in the inbox', async () => {
    const channel = await connectChannel(ctx);
    const customer = randomNumber();
    const delivery = await textFromCustomer(ctx, channel, customer, 'Hello, are you open today?');
    expect(delivery.status).toBe(200);
    expect(delivery.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    // Written in one end() with the headers Nest set before the handler: no ETag hashed.
    expect(delivery.headers).toMatchObject({
      'content-type': 'text/xml; charset=utf-8',
      'content-length': String(delivery.body.length),
    });
    expect(delivery.headers.etag).toBeUndefined();

    const [reply] = await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
    expect(reply.from).toBe(channel.phoneNumber);
    expect(reply.accountSid).toBe(channel.accountSid);
    expect(reply.body.length).toBeGreaterThan(0);

    const rows = await eventually(async () => {
      const all = await messagesOf(channel, customer);
      return all.length === 2 && all[1].twilio_sid ? all : null;
    });
    expect(rows[0]).toEqual(
      expect.objectContaining({
        direction: 'inbound',
        author: 'customer',
        body: 'Hello, are you open today?',
      }),
    );
    expect(rows[1]).toEqual(
      expect.objectContaining({
        direction: 'outbound',
        author: 'bot',
        body: reply.body,
        twilio_sid: reply.sid,
      }),
    );
    expect(rows[1].delivery_status).toBe('queued');
    expect(rows[1].segments).toBeGreaterThanOrEqual(1);
    // The status callback URL names the reply, so a callback can find it before its SID is stored.
    expect(reply.statusCallback).toBe(`${TEST_PUBLIC_BASE_URL}${STATUS}?messageId=${rows[1].id}`);
    const status = await authed(ctx.t.http, channel.apiKey).get(
      `/api/chatbots/${channel.chatbotId}/channels/sms`,
    );
    expect(status.body.lastInboundAt).toEqual(expect.any(String));
    expect(status.body.lastOutboundAt).toEqual(expect.any(String));
  });

  describe('refused webhooks: 403 and nothing stored', () => {
    let channel: ConnectedChannel;
    beforeAll(async () => {
      channel = await connectChannel(ctx);
    });
    const stored = () => countRows(ctx, `conversations WHERE chatbot_id = $1`, [channel.chatbotId]);

    it('unsigned', async () => {
      const { default: request } = await import('supertest');
      const res = await request(ctx.t.http)
        .post(WEBHOOK)
        .type('form')
        .send(inboundParams(channel, randomNumber(), 'hi'));
      expect(res.status).toBe(403);
      expect(res.body).toEqual(
        expect.objectContaining({ statusCode: 403, code: 'TWILIO_SIGNATURE_INVALID' }),
      );
      expect(await stored()).toBe(0);
    });

    it('signed with another token', async () => {
      const res = await signedPost(
        ctx,
        WEBHOOK,
        inboundParams(channel, randomNumber(), 'hi'),
        'f'.repeat(32),
      );
      expect(res.status).toBe(403);
      expect(await stored()).toBe(0);
    });

    it('tampered after signing', async () => {
      const params = inboundParams(channel, randomNumber(), 'hi');
      const res = await signedPost(
        ctx,
        WEBHOOK,
        { ...params, Body: 'send me everything' },
        channel.authToken,
        params,
      );
      expect(res.status).toBe(403);
      expect(await stored()).toBe(0);
    });

    it('signed for another URL (a proxy-rewritten host does not count)', async () => {
      const { default: request } = await import('supertest');
      const { default: twilio } = await import('twilio');
      const params = inboundParams(channel, randomNumber(), 'hi');
      const signature = twilio.getExpectedTwilioSignature(
        channel.authToken,
        `http://127.0.0.1${WEBHOOK}`,
        params,
      );
      const res = await request(ctx.t.http)
        .post(WEBHOOK)
        .type('form')
        .set('X-Twilio-Signature', signature)
        .send(params);
      expect(res.status).toBe(403);
      expect(await stored()).toBe(0);
    });

    it('for a number with no connected channel', async () => {
      const params = { ...inboundParams(channel, randomNumber(), 'hi'), To: randomNumber() };
      const res = await signedPost(ctx, WEBHOOK, params, channel.authToken);
      expect(res.status).toBe(403);
      expect(await stored()).toBe(0);
    });

    it('with an AccountSid that is not the channel account', async () => {
      const params = {
        ...inboundParams(channel, randomNumber(), 'hi'),
        AccountSid: 'AC' + '0'.repeat(32),
      };
      const res = await signedPost(ctx, WEBHOOK, params, channel.authToken);
      expect(res.status).toBe(403);
      expect(await stored()).toBe(0);
    });

    it('as JSON instead of a form', async () => {
      const { default: request } = await import('supertest');
      const res = await request(ctx.t.http)
        .post(WEBHOOK)
        .set('X-Twilio-Signature', 'x')
        .send(inboundParams(channel, randomNumber(), 'hi'));
      expect(res.status).toBe(403);
    });

    it('after disconnect', async () => {
      const gone = await connectChannel(ctx);
      await authed(ctx.t.http, gone.apiKey)
        .delete(`/api/chatbots/${gone.chatbotId}/channels/sms`)
        .expect(204);
      const res = await signedPost(
        ctx,
        WEBHOOK,
        inboundParams(gone, randomNumber(), 'hi'),
        gone.authToken,
      );
      expect(res.status).toBe(403);
      expect(await countRows(ctx, `conversations WHERE chatbot_id = $1`, [gone.chatbotId])).toBe(0);
    });
  });

  describe("the inbound webhook's cached channel row is checked where the message is stored", () => {
    // The guard may serve a channel row read up to a minute ago. These change the row behind this
    // instance's back, as another instance's disconnect, reconnect or key rotation would.
    let channel: ConnectedChannel;
    const inboundOf = () =>
      countRows(
        ctx,
        `messages m JOIN conversations c ON c.id = m.conversation_id
         WHERE c.chatbot_id = $1 AND m.direction = 'inbound'`,
        [channel.chatbotId],
      );
    const setToken = async (token: string) => {
      const [{ id }] = await db().query(`SELECT id FROM sms_channels WHERE phone_number = $1`, [
        channel.phoneNumber,
      ]);
      const encrypted = ctx.t.running.app
        .get(CredentialCipher)
        .encrypt(new Secret(token), authTokenAad(id));
      await db().query(`UPDATE sms_channels SET auth_token_encrypted = $2 WHERE id = $1`, [
        id,
        encrypted,
      ]);
    };

    beforeEach(async () => {
      channel = await connectChannel(ctx);
      // Read (and cached) by a first webhook.
      expect((await textFromCustomer(ctx, channel, randomNumber(), 'first')).status).toBe(200);
      expect(await inboundOf()).toBe(1);
    });

    it('a channel deleted elsewhere: 403 and nothing stored', async () => {
      await db().query(`DELETE FROM sms_channels WHERE phone_number = $1`, [channel.phoneNumber]);
      const res = await signedPost(
        ctx,
        WEBHOOK,
        inboundParams(channel, randomNumber(), 'after disconnect'),
        channel.authToken,
      );
      expect(res.status).toBe(403);
      expect(await inboundOf()).toBe(1);
    });

    it('the same token re-encrypted elsewhere (key rotation): stored once', async () => {
      await setToken(channel.authToken);
      const res = await signedPost(
        ctx,
        WEBHOOK,
        inboundParams(channel, randomNumber(), 'after rotation'),
        channel.authToken,
      );
      expect(res.status).toBe(200);
      expect(await inboundOf()).toBe(2);
    });

    it('a new token saved elsewhere (reconnect): the new one signs at once, the old one no longer does', async () => {
      const newToken = 'a'.repeat(32);
      await setToken(newToken);
      const withOld = await signedPost(
        ctx,
        WEBHOOK,
        inboundParams(channel, randomNumber(), 'old token'),
        channel.authToken,
      );
      expect(withOld.status).toBe(403);
      expect(await inboundOf()).toBe(1);
      const withNew = await signedPost(
        ctx,
        WEBHOOK,
        inboundParams(channel, randomNumber(), 'new token'),
        newToken,
      );
      expect(withNew.status).toBe(200);
      expect(await inboundOf()).toBe(2);
    });

    it('a new token saved elsewhere just after this instance cached the row: its first webhook is accepted', async () => {
      // Junk can only make a row that does not sign be read again once per number per few
      // seconds; a request after no such junk still gets its fresh read.
      const newToken = 'b'.repeat(32);
      await setToken(newToken);
      const res = await signedPost(
        ctx,
        WEBHOOK,
        inboundParams(channel, randomNumber(), 'new token first'),
        newToken,
      );
      expect(res.status).toBe(200);
      expect(await inboundOf()).toBe(2);
    });
  });

  it('stores and answers the same MessageSid once, sequentially and concurrently', async () => {
    const channel = await connectChannel(ctx);
    const customer = randomNumber();
    const params = inboundParams(channel, customer, 'What are your opening hours?');
    await signedPost(ctx, WEBHOOK, params, channel.authToken).expect(200);
    await signedPost(ctx, WEBHOOK, params, channel.authToken).expect(200);
    const concurrent = inboundParams(channel, customer, 'And on Sundays?');
    const results = await Promise.all(
      Array.from({ length: 6 }, () => signedPost(ctx, WEBHOOK, concurrent, channel.authToken)),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    await ctx.twilio.waitForMessages(2, 10_000, (m) => m.to === customer);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(repliesTo(customer)).toHaveLength(2);
    expect(
      await countRows(ctx, `messages WHERE twilio_sid IN ($1, $2)`, [
        params.MessageSid,
        concurrent.MessageSid,
      ]),
    ).toBe(2);
  });

  describe('MMS', () => {
    it('drops attachments, records how many, and sends only the text to the agent', async () => {
      const channel = await connectChannel(ctx);
      const customer = randomNumber();
      await textFromCustomer(ctx, channel, customer, 'Is this broken?', {
        NumMedia: '2',
        MediaUrl0: 'https://api.twilio.com/media/1',
        MediaContentType0: 'image/jpeg',
        MediaUrl1: 'https://api.twilio.com/media/2',
        MediaContentType1: 'image/png',
      });
      await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
      const [inbound] = await messagesOf(channel, customer);
      expect(inbound).toEqual(
        expect.objectContaining({ body: 'Is this broken?', media_dropped: 2 }),
      );
      expect(ctx.twilio.requests.some((r) => r.path.includes('/media/'))).toBe(false);
    });

    it('answers an attachment-only message with the configurable text-only reply', async () => {
      const channel = await connectChannel(ctx);
      await authed(ctx.t.http, channel.apiKey)
        .patch(`/api/chatbots/${channel.chatbotId}`)
        .send({ mediaOnlyReply: 'Text only please!' })
        .expect(200);
      const customer = randomNumber();
      await textFromCustomer(ctx, channel, customer, '', {
        NumMedia: '1',
        MediaUrl0: 'https://api.twilio.com/m/1',
      });
      const [reply] = await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
      expect(reply.body).toBe('Text only please!');
      const [inbound] = await messagesOf(channel, customer);
      expect(inbound.media_dropped).toBe(1);
    });
  });

  describe('opt-out', () => {
    /** The opt-out of (the number texted, the customer), or undefined. */
    const optOutOf = async (channel: ConnectedChannel, customer: string) =>
      (
        await db().query(
          `SELECT source FROM sms_opt_outs WHERE sender = $1 AND customer_number = $2`,
          [channel.phoneNumber, customer],
        )
      )[0] as { source: string } | undefined;
    const replyJobsFor = (body: string) =>
      countRows(
        ctx,
        `pgboss.job WHERE name = 'sms-reply' AND data->>'messageId' IN (SELECT id::text FROM messages WHERE body = $1)`,
        [body],
      );

    it('STOP opts the customer out of the number: no AI reply, no later bot texts, until START', async () => {
      const channel = await connectChannel(ctx);
      const customer = randomNumber();
      await textFromCustomer(ctx, channel, customer, 'Stop');
      expect(await optOutOf(channel, customer)).toEqual({ source: 'keyword' });
      await textFromCustomer(ctx, channel, customer, 'Are you still there?');
      expect(await replyJobsFor('Are you still there?')).toBe(0);
      await textFromCustomer(ctx, channel, customer, 'START');
      expect(await optOutOf(channel, customer)).toBeUndefined();
      await textFromCustomer(ctx, channel, customer, 'Hello again');
      const replies = await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(repliesTo(customer)).toHaveLength(1);
      expect(replies).toHaveLength(1);
      expect(
        await countRows(ctx, `messages WHERE conversation_id = $1`, [
          (await conversationOf(channel, customer)).id,
        ]),
      ).toBe(5);
    });

    it.each(['STOPALL', 'unsubscribe', 'Cancel', 'END', 'quit!', 'OPTOUT', 'Revoke.'])(
      '%s opts out',
      async (keyword) => {
        const channel = await connectChannel(ctx);
        const customer = randomNumber();
        await textFromCustomer(ctx, channel, customer, keyword);
        expect(await optOutOf(channel, customer)).toEqual({ source: 'keyword' });
      },
    );

    it("OPTOUT and REVOKE (Twilio's defaults since 14 May 2025) get no AI reply, and nor does what follows", async () => {
      const channel = await connectChannel(ctx);
      const customers = [randomNumber(), randomNumber()];
      await textFromCustomer(ctx, channel, customers[0], 'optout');
      await textFromCustomer(ctx, channel, customers[1], 'REVOKE');
      for (const customer of customers)
        await textFromCustomer(ctx, channel, customer, `Still there, ${customer}?`);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(ctx.twilio.messages.filter((m) => customers.includes(m.to))).toEqual([]);
      expect(await replyJobsFor('optout')).toBe(0);
      expect(await replyJobsFor('REVOKE')).toBe(0);
    });

    it("honours Twilio's OptOutType whatever the body says", async () => {
      const channel = await connectChannel(ctx);
      const customer = randomNumber();
      await textFromCustomer(ctx, channel, customer, 'Arrêtez', { OptOutType: 'STOP' });
      expect(await optOutOf(channel, customer)).toEqual({ source: 'keyword' });
      await textFromCustomer(ctx, channel, customer, 'ok go', { OptOutType: 'START' });
      expect(await optOutOf(channel, customer)).toBeUndefined();
    });

    it('a late retry of an old STOP (the same MessageSid) does not undo a later START', async () => {
      const channel = await connectChannel(ctx);
      const customer = randomNumber();
      const stop = inboundParams(channel, customer, 'STOP');
      await signedPost(ctx, WEBHOOK, stop, channel.authToken).expect(200);
      await textFromCustomer(ctx, channel, customer, 'START');
      await signedPost(ctx, WEBHOOK, stop, channel.authToken).expect(200);
      expect(await optOutOf(channel, customer)).toBeUndefined();
    });

    it('HELP gets no AI reply (Twilio answers it)', async () => {
      const channel = await connectChannel(ctx);
      const customer = randomNumber();
      await textFromCustomer(ctx, channel, customer, 'HELP');
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(repliesTo(customer)).toHaveLength(0);
      expect(await replyJobsFor('HELP')).toBe(0);
    });
  });

  describe('senders we never text back: stored as Twilio signed them, never answered', () => {
    it.each([
      ['a short code', '72345'],
      ['an alphanumeric sender ID', 'VERIFY'],
      ['an alphanumeric sender ID with a space', 'My Bank'],
      ["the channel's own number", 'OWN'],
    ])('%s', async (_kind, sender) => {
      const channel = await connectChannel(ctx);
      const from = sender === 'OWN' ? channel.phoneNumber : sender;
      const body = `Your code is 123456 (${randomMessageSid()})`;
      const delivery = await textFromCustomer(ctx, channel, from, body);
      expect(delivery.status).toBe(200);
      const [stored] = await messagesOf(channel, from);
      expect(stored).toEqual(expect.objectContaining({ direction: 'inbound', body }));
      const conversation = await conversationOf(channel, from);
      const api = authed(ctx.t.http, channel.apiKey);
      const list = await api.get(`/api/chatbots/${channel.chatbotId}/conversations`).expect(200);
      expect(list.body.items).toEqual([
        expect.objectContaining({ id: conversation.id, customerNumber: from, optedOut: false }),
      ]);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(repliesTo(from)).toEqual([]);
      expect(
        await countRows(ctx, `pgboss.job WHERE name = 'sms-reply' AND data->>'messageId' = $1`, [
          stored.id,
        ]),
      ).toBe(0);
      const reply = await api
        .post(`/api/conversations/${conversation.id}/messages`)
        .send({ body: 'Hello?' })
        .expect(409);
      expect(reply.body.code).toBe('CONTACT_NOT_REPLYABLE');
    });

    it.each([
      ['blank', '   '],
      ['a control character', 'VERI\u0007FY'],
      ['absurdly long', 'x'.repeat(65)],
    ])('a From that is %s is refused with 400 and nothing stored', async (_kind, from) => {
      const channel = await connectChannel(ctx);
      const res = await signedPost(
        ctx,
        WEBHOOK,
        inboundParams(channel, from, 'hi'),
        channel.authToken,
      );
      expect(res.status).toBe(400);
      expect(res.body).toEqual(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
      expect(await countRows(ctx, `conversations WHERE chatbot_id = $1`, [channel.chatbotId])).toBe(
        0,
      );
    });
  });

  it('a transient Twilio failure is retried and the reply goes out once', async () => {
    const channel = await connectChannel(ctx);
    const customer = randomNumber();
    ctx.twilio.failNext(
      2,
      { status: 503 },
      { method: 'POST', pathIncludes: `${channel.accountSid}/Messages.json` },
    );
    await textFromCustomer(ctx, channel, customer, 'Anyone there?');
    await ctx.twilio.waitForMessages(1, 20_000, (m) => m.to === customer);

    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(repliesTo(customer)).toHaveLength(1);
    const rows = await messagesOf(channel, customer);
    expect(rows[1].twilio_sid).toBe(repliesTo(customer)[0].sid);
  });

  it('a reply that timed out but was created by Twilio is found, not sent twice', async () => {
    const channel = await connectChannel(ctx);
    const customer = randomNumber();
    ctx.twilio.delayNext(1, 2_500, {
      method: 'POST',
      pathIncludes: `${channel.accountSid}/Messages.json`,
    });
    await textFromCustomer(ctx, channel, customer, 'Slow day?');
    const rows = await eventually(async () => {
      const all = await messagesOf(channel, customer);
      return all[1]?.twilio_sid ? all : null;
    }, 20_000);
    expect(repliesTo(customer)).toHaveLength(1);
    expect(rows[1].twilio_sid).toBe(repliesTo(customer)[0].sid);
  });

  it('a permanent Twilio error fails at once with the code and a readable reason', async () => {
    const channel = await connectChannel(ctx);
    const customer = randomNumber();
    ctx.twilio.rejectMessagesWith(21610, 'Attempt to send to unsubscribed recipient', 400, {
      to: customer,
    });
    await textFromCustomer(ctx, channel, customer, 'hi');
    const rows = await eventually(async () => {
      const all = await messagesOf(channel, customer);
      return all[1]?.delivery_status === 'failed' ? all : null;
    });
    expect(rows[1]).toEqual(expect.objectContaining({ error_code: 21610, twilio_sid: null }));
    expect(rows[1].error_message).toMatch(/opted out|unsubscribed/i);
    const createCalls = ctx.twilio.requests.filter(
      (r) => r.method === 'POST' && r.form?.To === customer,
    );
    expect(createCalls).toHaveLength(1);
    const status = await authed(ctx.t.http, channel.apiKey).get(
      `/api/chatbots/${channel.chatbotId}/channels/sms`,
    );
    expect(status.body.lastError).toMatch(/opted out|unsubscribed/i);
  });

  describe('status callbacks', () => {
    async function sentReply() {
      const channel = await connectChannel(ctx);
      const customer = randomNumber();
      await textFromCustomer(ctx, channel, customer, 'hi there');
      const [reply] = await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
      await eventually(async () => (await messagesOf(channel, customer))[1]?.twilio_sid);
      const callback = (status: string, extra: Record<string, string> = {}) =>
        signedPost(
          ctx,
          STATUS,
          {
            MessageSid: reply.sid,
            MessageStatus: status,
            AccountSid: channel.accountSid,
            From: channel.phoneNumber,
            To: customer,
            ...extra,
          },
          channel.authToken,
        );
      const outbound = async () => (await messagesOf(channel, customer))[1];
      return { channel, customer, reply, callback, outbound };
    }

    it('moves forward only: delivered stays delivered when sent arrives late or twice', async () => {
      const s = await sentReply();
      await s.callback('sent').expect(200);
      await s.callback('delivered').expect(200);
      await s.callback('sent').expect(200);
      await s.callback('delivered').expect(200);
      await s.callback('queued').expect(200);
      expect((await s.outbound()).delivery_status).toBe('delivered');
    });

    it('records a delivery failure with its code and readable reason', async () => {
      const s = await sentReply();
      await s.callback('undelivered', { ErrorCode: '30003' }).expect(200);
      const outbound = await s.outbound();
      expect(outbound).toEqual(
        expect.objectContaining({ delivery_status: 'undelivered', error_code: 30003 }),
      );
      expect(outbound.error_message).toMatch(/unreachable/i);
    });

    it('ignores unknown SIDs and unknown statuses', async () => {
      const s = await sentReply();
      const unknown = await signedPost(
        ctx,
        STATUS,
        {
          MessageSid: randomMessageSid(),
          MessageStatus: 'delivered',
          AccountSid: s.channel.accountSid,
          From: s.channel.phoneNumber,
          To: s.customer,
        },
        s.channel.authToken,
      );
      expect(unknown.status).toBe(200);
      await s.callback('teleported').expect(200);
      expect((await s.outbound()).delivery_status).toBe('queued');
    });

    it('refuses an unsigned or wrongly signed callback', async () => {
      const s = await sentReply();
      const res = await signedPost(
        ctx,
        STATUS,
        {
          MessageSid: s.reply.sid,
          MessageStatus: 'failed',
          AccountSid: s.channel.accountSid,
          From: s.channel.phoneNumber,
          To: s.customer,
        },
        'e'.repeat(32),
      );
      expect(res.status).toBe(403);
      expect((await s.outbound()).delivery_status).toBe('queued');
    });
  });
});
