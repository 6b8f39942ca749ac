/**
 * Numbers inside a Twilio Messaging Service (A2P 10DLC), through the real app and the Twilio
 * double: connect finds (or checks) the service, the webhook goes where Twilio reads it, a real
 * inbound message then arrives by the double's routing (no URL given: the one Twilio would use),
 * replies name the service, opt-outs cover the whole service, disconnect puts back what we set.
 */
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { simulateInboundSms } from '../src/sms-simulate';
import { TEST_PUBLIC_BASE_URL, authed } from './support/test-app';
import {
  countRows,
  createChatbot,
  eventually,
  randomMessageSid,
  randomNumber,
  signedPost,
  SmsTestContext,
  startSmsTestApp,
} from './support/sms-fixtures';

const WEBHOOK = '/api/webhooks/twilio/sms';
const OUR_URL = `${TEST_PUBLIC_BASE_URL}${WEBHOOK}`;
const CRM_URL = 'https://crm.example.com/twilio/sms';

describe('Messaging Services (A2P 10DLC)', () => {
  let ctx: SmsTestContext;

  beforeAll(async () => {
    ctx = await startSmsTestApp();
  });
  afterAll(() => ctx.close());
  afterEach(() => ctx.twilio.clearFaults());

  const db = () => ctx.t.running.app.get(DataSource);

  interface Customer {
    apiKey: string;
    chatbotId: string;
    accountSid: string;
    authToken: string;
  }

  /** An organization with a chatbot and a Twilio account, nothing connected yet. */
  async function customer(accountSid?: string, authToken?: string): Promise<Customer> {
    const { apiKey } = await ctx.t.createOrganization('starter');
    const chatbotId = await createChatbot(ctx, apiKey);
    const account = accountSid ? { sid: accountSid, authToken } : ctx.twilio.addAccount();
    return { apiKey, chatbotId, accountSid: account.sid, authToken: account.authToken! };
  }

  const connect = (c: Customer, phoneNumber: string, extra: Record<string, unknown> = {}) =>
    authed(ctx.t.http, c.apiKey)
      .put(`/api/chatbots/${c.chatbotId}/channels/sms`)
      .send({ accountSid: c.accountSid, authToken: c.authToken, phoneNumber, ...extra });
  const status = (c: Customer) =>
    authed(ctx.t.http, c.apiKey).get(`/api/chatbots/${c.chatbotId}/channels/sms`).expect(200);
  const disconnect = (c: Customer) =>
    authed(ctx.t.http, c.apiKey).delete(`/api/chatbots/${c.chatbotId}/channels/sms`).expect(204);

  /** A number on the customer's account, optionally with an SmsUrl of its own. */
  const number = (c: Customer, smsUrl?: string) => {
    const phoneNumber = randomNumber();
    ctx.twilio.addNumber(c.accountSid, { phoneNumber, smsUrl });
    return phoneNumber;
  };
  const smsUrlOf = (c: Customer, phoneNumber: string) =>
    ctx.twilio.numbers(c.accountSid).find((n) => n.phoneNumber === phoneNumber)?.smsUrl;
  const service = (
    c: Customer,
    options: Parameters<SmsTestContext['twilio']['addMessagingService']>[1],
    numbers: string[],
  ) => {
    const { sid } = ctx.twilio.addMessagingService(c.accountSid, options);
    for (const n of numbers) ctx.twilio.addNumberToMessagingService(sid, n);
    return sid;
  };

  /** The customer texts `to` the way Twilio delivers it: to whichever URL Twilio would use. */
  const text = (to: string, from: string, body: string, extra?: Record<string, string>) =>
    ctx.twilio.sendInboundMessage({ to, from, body, extra, deliverTo: ctx.t.webhookUrl });
  const replyTo = async (person: string) =>
    (await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === person))[0];

  it('connects a number in no service as before: its SmsUrl is set, no messagingService', async () => {
    const c = await customer();
    const phoneNumber = number(c);
    const res = await connect(c, phoneNumber, { configureWebhook: true }).expect(200);
    expect(res.body).toMatchObject({ webhookConfigured: true, messagingService: null });
    expect(smsUrlOf(c, phoneNumber)).toBe(OUR_URL);

    const person = randomNumber();
    expect((await text(phoneNumber, person, 'Hello?')).status).toBe(200);
    const reply = await replyTo(person);
    expect(reply.from).toBe(phoneNumber);
    expect(reply.messagingServiceSid).toBeNull();
    expect(reply.params).not.toHaveProperty('MessagingServiceSid');
  });

  it("a service that defers to its numbers: the number's SmsUrl is set, replies name the service", async () => {
    const c = await customer();
    const phoneNumber = number(c);
    const sid = service(
      c,
      { friendlyName: 'Support (A2P)', useInboundWebhookOnNumber: true, usA2pRegistered: true },
      [phoneNumber],
    );
    const res = await connect(c, phoneNumber, { configureWebhook: true }).expect(200);
    expect(res.body).toMatchObject({
      webhookConfigured: true,
      messagingService: {
        sid,
        friendlyName: 'Support (A2P)',
        inboundWebhook: 'number',
        usA2pRegistered: true,
      },
    });
    expect(smsUrlOf(c, phoneNumber)).toBe(OUR_URL);
    expect(ctx.twilio.messagingService(sid)?.inboundRequestUrl).toBeNull();

    const person = randomNumber();
    const delivery = await text(phoneNumber, person, 'Are you open?');
    expect(delivery.params.MessagingServiceSid).toBe(sid);
    const reply = await replyTo(person);
    // From: the number the customer texted (sticky), and the service, so its campaign applies.
    expect(reply.params).toMatchObject({ From: phoneNumber, MessagingServiceSid: sid });
  });

  it("a service with its own inbound URL: the service is pointed at us (the number's SmsUrl would be ignored) and a real message arrives", async () => {
    const c = await customer();
    const phoneNumber = number(c, 'https://old.example.com/ignored-by-twilio');
    const sid = service(c, { friendlyName: 'Alerts' }, [phoneNumber]);

    // Without configureWebhook nothing changes, and the status says where Twilio reads the URL.
    const plain = await connect(c, phoneNumber).expect(200);
    expect(plain.body).toMatchObject({
      webhookConfigured: false,
      messagingService: { sid, inboundWebhook: 'service' },
    });
    await expect(text(phoneNumber, randomNumber(), 'lost')).rejects.toThrow(/no inbound URL/);

    const res = await connect(c, phoneNumber, { configureWebhook: true }).expect(200);
    expect(res.body).toMatchObject({
      webhookConfigured: true,
      messagingService: { sid, inboundWebhook: 'service', usA2pRegistered: false },
    });
    expect(ctx.twilio.messagingService(sid)).toMatchObject({
      inboundRequestUrl: OUR_URL,
      inboundMethod: 'POST',
    });
    expect(smsUrlOf(c, phoneNumber)).toBe('https://old.example.com/ignored-by-twilio');

    const person = randomNumber();
    expect((await text(phoneNumber, person, 'Hello from a 10DLC number')).status).toBe(200);
    const reply = await replyTo(person);
    expect(reply.params).toMatchObject({ From: phoneNumber, MessagingServiceSid: sid });
    expect((await status(c)).body.lastInboundAt).not.toBeNull();

    // Disconnect: the service had no inbound URL before; we clear ours, the number keeps its own.
    await disconnect(c);
    expect(ctx.twilio.messagingService(sid)?.inboundRequestUrl).toBeNull();
    expect(smsUrlOf(c, phoneNumber)).toBe('https://old.example.com/ignored-by-twilio');
  });

  it("health judges the service's inbound URL, not the number's; repair points the service at us again", async () => {
    const c = await customer();
    // The number's own SmsUrl already names us: judged by it, the channel would look fine.
    const phoneNumber = number(c, OUR_URL);
    const sid = service(c, { friendlyName: 'Alerts' }, [phoneNumber]);
    await connect(c, phoneNumber, { configureWebhook: true }).expect(200);
    expect((await status(c)).body.health).toMatchObject({ inbound: 'ours', inboundUrl: OUR_URL });

    ctx.twilio.updateMessagingService(sid, { inboundRequestUrl: 'https://crm.example.com/sms' });
    await db().query(
      `UPDATE sms_channels SET health_checked_at = now() - interval '2 minutes',
         health_claimed_at = now() - interval '2 minutes' WHERE chatbot_id = $1`,
      [c.chatbotId],
    );
    const moved = (await status(c)).body;
    expect(moved.health).toMatchObject({
      inbound: 'elsewhere',
      inboundUrl: 'https://crm.example.com/sms',
    });
    expect(moved.webhookConfigured).toBe(false);

    const repaired = await authed(ctx.t.http, c.apiKey)
      .post(`/api/chatbots/${c.chatbotId}/channels/sms/webhook`)
      .expect(200);
    expect(repaired.body).toMatchObject({
      webhookConfigured: true,
      health: { inbound: 'ours', inboundUrl: OUR_URL },
    });
    expect(ctx.twilio.messagingService(sid)?.inboundRequestUrl).toBe(OUR_URL);
    const person = randomNumber();
    expect((await text(phoneNumber, person, 'After the repair')).status).toBe(200);
    expect((await replyTo(person)).params).toMatchObject({ MessagingServiceSid: sid });
  });

  it('a service that routes other numbers elsewhere: 409 and nothing changed, unless configureWebhook is "service"; disconnect restores it', async () => {
    const c = await customer();
    const phoneNumber = number(c);
    const others = [number(c), number(c)];
    const sid = service(c, { friendlyName: 'Shop', inboundRequestUrl: CRM_URL }, [
      phoneNumber,
      ...others,
    ]);

    const requestsBefore = ctx.twilio.requests.length;
    const refused = await connect(c, phoneNumber, { configureWebhook: true }).expect(409);
    expect(refused.body.code).toBe('MESSAGING_SERVICE_IN_USE');
    expect(refused.body.message).toContain('"Shop"');
    expect(refused.body.message).toContain('2 other numbers');
    expect(refused.body.message).toContain(CRM_URL);
    expect(refused.body.message).toContain("Defer to sender's webhook");
    expect(refused.body.message).toContain('configureWebhook: "service"');
    expect(ctx.twilio.messagingService(sid)?.inboundRequestUrl).toBe(CRM_URL);
    expect((await status(c)).body.connected).toBe(false);
    expect(ctx.twilio.requests.slice(requestsBefore).filter((r) => r.method !== 'GET')).toEqual([]);

    const taken = await connect(c, phoneNumber, { configureWebhook: 'service' }).expect(200);
    expect(taken.body).toMatchObject({ webhookConfigured: true });
    expect(ctx.twilio.messagingService(sid)?.inboundRequestUrl).toBe(OUR_URL);

    await disconnect(c);
    expect(ctx.twilio.messagingService(sid)).toMatchObject({
      inboundRequestUrl: CRM_URL,
      inboundMethod: 'POST',
    });
  });

  it('refuses configureWebhook values other than true, false and "service"', async () => {
    const c = await customer();
    const res = await connect(c, number(c), { configureWebhook: 'number' }).expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
  });

  it("a messagingServiceSid that is not the account's, or does not hold the number: 422, nothing stored", async () => {
    const c = await customer();
    const phoneNumber = number(c);
    const other = await customer();
    const foreign = service(other, {}, [number(other)]);
    const unknown = `MG${randomBytes(16).toString('hex')}`;
    const emptyOfIt = service(c, {}, [number(c)]);
    const holding = service(c, { friendlyName: 'Right one' }, [phoneNumber]);

    for (const messagingServiceSid of [unknown, foreign]) {
      const res = await connect(c, phoneNumber, { messagingServiceSid }).expect(422);
      expect(res.body).toEqual({
        statusCode: 422,
        code: 'TWILIO_MESSAGING_SERVICE_NOT_FOUND',
        message: "The Messaging Service you entered doesn't belong to this Twilio account",
      });
    }
    const wrong = await connect(c, phoneNumber, { messagingServiceSid: emptyOfIt }).expect(422);
    expect(wrong.body).toEqual({
      statusCode: 422,
      code: 'TWILIO_NUMBER_NOT_IN_MESSAGING_SERVICE',
      message: "The phone number isn't in that Messaging Service",
    });
    expect((await status(c)).body.connected).toBe(false);

    const bad = await connect(c, phoneNumber, { messagingServiceSid: 'MG123' }).expect(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');

    const ok = await connect(c, phoneNumber, { messagingServiceSid: holding }).expect(200);
    expect(ok.body.messagingService).toMatchObject({ sid: holding, friendlyName: 'Right one' });
  });

  it('Messaging v1 unreachable while probing: 503 TWILIO_UNREACHABLE, nothing stored', async () => {
    const c = await customer();
    const phoneNumber = number(c);
    ctx.twilio.failNext(1, { status: 503 }, { operationId: 'ListService' });
    const res = await connect(c, phoneNumber, { configureWebhook: true }).expect(503);
    expect(res.body.code).toBe('TWILIO_UNREACHABLE');
    expect((await status(c)).body.connected).toBe(false);
    expect(smsUrlOf(c, phoneNumber)).toBe('');

    const pinned = service(c, {}, [phoneNumber]);
    ctx.twilio.failNext(1, { status: 500 }, { operationId: 'ListPhoneNumber' });
    await connect(c, phoneNumber, { messagingServiceSid: pinned }).expect(503);
    expect((await status(c)).body.connected).toBe(false);
  });

  it("disconnect puts back the number's previous SmsUrl, not an empty one", async () => {
    const c = await customer();
    const phoneNumber = number(c, 'https://old.example.com/sms');
    await connect(c, phoneNumber, { configureWebhook: true }).expect(200);
    expect(smsUrlOf(c, phoneNumber)).toBe(OUR_URL);
    // Connecting again keeps what we replaced the first time.
    await connect(c, phoneNumber, { configureWebhook: true }).expect(200);
    await disconnect(c);
    expect(smsUrlOf(c, phoneNumber)).toBe('https://old.example.com/sms');
  });

  describe('two numbers of one service, on two chatbots', () => {
    let first: Customer;
    let second: Customer;
    let numbers: [string, string];
    let sid: string;

    beforeEach(async () => {
      first = await customer();
      second = await customer(first.accountSid, first.authToken);
      numbers = [number(first), number(first)];
      sid = service(first, { friendlyName: 'Both' }, numbers);
      await connect(first, numbers[0], { configureWebhook: true }).expect(200);
      // The service already points at us: nothing to take over.
      await connect(second, numbers[1], { configureWebhook: true }).expect(200);
    });

    it('a STOP to one number opts the person out of the whole service', async () => {
      const person = randomNumber();
      await text(numbers[0], person, 'STOP');
      await eventually(() =>
        countRows(ctx, `sms_opt_outs WHERE sender = $1 AND customer_number = $2`, [sid, person]),
      );
      const sent = ctx.twilio.messages.length;
      expect((await text(numbers[1], person, 'Hello again')).status).toBe(200);
      const [conversation] = await eventually(async () => {
        const rows = await db().query(
          `SELECT c.id, c.sender FROM conversations c JOIN messages m ON m.conversation_id = c.id
           WHERE c.chatbot_id = $1 AND c.customer_number = $2`,
          [second.chatbotId, person],
        );
        return rows.length > 0 ? rows : null;
      });
      expect(conversation.sender).toBe(sid);
      const inbox = await authed(ctx.t.http, second.apiKey)
        .get(`/api/conversations/${conversation.id}`)
        .expect(200);
      expect(inbox.body.optedOut).toBe(true);
      const agentReply = await authed(ctx.t.http, second.apiKey)
        .post(`/api/conversations/${conversation.id}/messages`)
        .send({ body: 'Can I help?' });
      expect(agentReply.body.code).toBe('CONTACT_OPTED_OUT');
      expect(ctx.twilio.messages.length).toBe(sent);

      // START through the other number opts them back in for the whole service.
      await text(numbers[1], person, 'START');
      await eventually(
        async () =>
          (await countRows(ctx, `sms_opt_outs WHERE sender = $1 AND customer_number = $2`, [
            sid,
            person,
          ])) === 0,
      );
    });

    it("Twilio's 21610 on a send through the service is recorded for the service", async () => {
      const person = randomNumber();
      ctx.twilio.rejectMessagesWith(21610, 'Attempt to send to unsubscribed recipient', 400, {
        to: person,
      });
      await text(numbers[0], person, 'Hi');
      await eventually(() =>
        countRows(
          ctx,
          `sms_opt_outs WHERE sender = $1 AND customer_number = $2 AND source = 'twilio-21610'`,
          [sid, person],
        ),
      );
    });

    it('disconnecting one leaves the service pointing at us for the other; the last one puts back what the first replaced', async () => {
      ctx.twilio.updateMessagingService(sid, { inboundRequestUrl: CRM_URL });
      await connect(first, numbers[0], { configureWebhook: 'service' }).expect(200);
      await connect(second, numbers[1], { configureWebhook: true }).expect(200);
      await disconnect(first);
      expect(ctx.twilio.messagingService(sid)?.inboundRequestUrl).toBe(OUR_URL);
      const person = randomNumber();
      await text(numbers[1], person, 'Still there?');
      expect((await replyTo(person)).params).toMatchObject({
        From: numbers[1],
        MessagingServiceSid: sid,
      });
      await disconnect(second);
      expect(ctx.twilio.messagingService(sid)?.inboundRequestUrl).toBe(CRM_URL);
    });
  });

  describe('inbound verification of a service number', () => {
    let c: Customer;
    let phoneNumber: string;
    let sid: string;

    beforeEach(async () => {
      c = await customer();
      phoneNumber = number(c);
      sid = service(c, {}, [phoneNumber]);
      await connect(c, phoneNumber, { configureWebhook: true }).expect(200);
    });

    const params = (extra: Record<string, string>) => ({
      MessageSid: randomMessageSid(),
      AccountSid: c.accountSid,
      MessagingServiceSid: sid,
      From: randomNumber(),
      To: phoneNumber,
      Body: 'hello',
      NumMedia: '0',
      ...extra,
    });

    it('refuses a forged one (signed with another token): 403, nothing stored', async () => {
      const forged = params({});
      const res = await signedPost(ctx, WEBHOOK, forged, randomBytes(16).toString('hex'));
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('TWILIO_SIGNATURE_INVALID');
      expect(await countRows(ctx, `messages WHERE twilio_sid = $1`, [forged.MessageSid])).toBe(0);
    });

    it('sms:simulate names the service, as Twilio does: stored and answered, no disagreement logged', async () => {
      const from = randomNumber();
      const logsBefore = ctx.t.logs.length;
      const result = await simulateInboundSms({
        url: ctx.t.baseUrl,
        apiKey: c.apiKey,
        authToken: c.authToken,
        to: phoneNumber,
        from,
        body: 'Simulated',
      });
      expect(result.status).toBe(200);
      await replyTo(from);
      const logs = ctx.t.logs.slice(logsBefore);
      expect(logs.some((line) => line.includes('another Messaging Service'))).toBe(false);
    });

    it('stores and answers one naming another service, and logs the disagreement', async () => {
      const moved = `MG${randomBytes(16).toString('hex')}`;
      const signed = params({ MessagingServiceSid: moved });
      const res = await signedPost(ctx, WEBHOOK, signed, c.authToken);
      expect(res.status).toBe(200);
      await replyTo(signed.From);
      expect(
        ctx.t.logs.some(
          (line) => line.includes('another Messaging Service') && line.includes(moved),
        ),
      ).toBe(true);
    });
  });
});
