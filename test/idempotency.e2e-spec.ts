/**
 * Idempotency-Key on the dashboard's writes, on the real app against the Twilio double: a repeat
 * answers the first result without doing it again (one SMS, one probe, connectedAt unmoved), a
 * different body or a key still running is refused, and outcomes that may heal are not kept.
 */
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { authed, expectError } from './support/test-app';
import {
  connectChannel,
  ConnectedChannel,
  countRows,
  createChatbot,
  eventually,
  randomNumber,
  SmsTestContext,
  startSmsTestApp,
  textFromCustomer,
} from './support/sms-fixtures';

describe('Idempotency-Key', () => {
  let ctx: SmsTestContext;
  let db: DataSource;
  let main: ConnectedChannel;

  beforeAll(async () => {
    // A Twilio answer held back for 3 s must not time the connect out.
    ctx = await startSmsTestApp({ TWILIO_TIMEOUT_MS: '10000' });
    db = ctx.t.running.app.get(DataSource);
    main = await connectChannel(ctx);
  });
  afterAll(() => ctx.close());

  /** A conversation opened by a real inbound SMS, so a human reply goes out through Twilio. */
  async function openConversation(): Promise<{ conversationId: string; customer: string }> {
    const customer = randomNumber();
    await textFromCustomer(ctx, main, customer, 'Hello, anyone there?');
    const [{ id }] = await eventually(async () => {
      const rows = await db.query('SELECT id FROM conversations WHERE customer_number = $1', [
        customer,
      ]);
      return rows.length ? rows : null;
    });
    // Escalate first, so the bot's own reply does not race the human one in the counts below.
    await authed(ctx.t.http, main.apiKey).post(`/api/conversations/${id}/escalate`).expect(200);
    return { conversationId: id as string, customer };
  }

  const sentTo = (to: string) =>
    ctx.twilio.messages.filter((m) => m.to === to && m.body.startsWith('Anna'));

  describe("a human agent's reply", () => {
    it('sent twice with one key texts the customer once and answers the first result again', async () => {
      const { conversationId, customer } = await openConversation();
      const key = randomUUID();
      const send = () =>
        authed(ctx.t.http, main.apiKey)
          .post(`/api/conversations/${conversationId}/messages`)
          .set('Idempotency-Key', key)
          .send({ body: 'Anna here: your parcel ships today.' });
      const first = await send().expect(201);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      await ctx.twilio.waitForMessages(
        1,
        10_000,
        (m) => m.to === customer && m.body.startsWith('Anna'),
      );
      const second = await send().expect(201);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.body).toEqual(first.body);
      expect(
        await countRows(ctx, "messages WHERE conversation_id = $1 AND author = 'agent'", [
          conversationId,
        ]),
      ).toBe(1);
      expect(sentTo(customer)).toHaveLength(1);
    });

    it('without a key, two identical replies are two SMS (the key is what makes a retry safe)', async () => {
      const { conversationId, customer } = await openConversation();
      for (let i = 0; i < 2; i++)
        await authed(ctx.t.http, main.apiKey)
          .post(`/api/conversations/${conversationId}/messages`)
          .send({ body: 'Anna here: your parcel ships today.' })
          .expect(201);
      await ctx.twilio.waitForMessages(
        2,
        10_000,
        (m) => m.to === customer && m.body.startsWith('Anna'),
      );
      expect(sentTo(customer)).toHaveLength(2);
    });

    it('the same key with another body is 422 IDEMPOTENCY_KEY_REUSED and sends nothing', async () => {
      const { conversationId } = await openConversation();
      const key = randomUUID();
      const post = (body: string) =>
        authed(ctx.t.http, main.apiKey)
          .post(`/api/conversations/${conversationId}/messages`)
          .set('Idempotency-Key', key)
          .send({ body });
      await post('Anna here: first').expect(201);
      const res = await post('Anna here: second').expect(422);
      expectError(res.body, 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(
        await countRows(ctx, "messages WHERE conversation_id = $1 AND author = 'agent'", [
          conversationId,
        ]),
      ).toBe(1);
    });

    it('a key of another organization is another key', async () => {
      const other = await connectChannel(ctx);
      const key = randomUUID();
      const ids = [];
      for (const owner of [main, other]) {
        const res = await authed(ctx.t.http, owner.apiKey)
          .post('/api/chatbots')
          .set('Idempotency-Key', key)
          .send({ name: 'Same key' })
          .expect(201);
        expect(res.headers['idempotent-replayed']).toBeUndefined();
        ids.push(res.body.id);
      }
      expect(ids[0]).not.toBe(ids[1]);
    });

    it('replays a refusal (4xx) too, marked as replayed', async () => {
      const key = randomUUID();
      const unknown = randomUUID();
      const post = () =>
        authed(ctx.t.http, main.apiKey)
          .post(`/api/conversations/${unknown}/messages`)
          .set('Idempotency-Key', key)
          .send({ body: 'Anna here' });
      const first = await post().expect(404);
      const second = await post().expect(404);
      expect(second.body).toEqual(first.body);
      expect(second.headers['idempotent-replayed']).toBe('true');
    });
  });

  describe('PUT connect', () => {
    /** A chatbot and a Twilio number ready to connect, and the connect request with one key. */
    async function connectTarget() {
      const { apiKey } = await ctx.t.createOrganization('starter');
      const chatbotId = await createChatbot(ctx, apiKey);
      const { sid: accountSid, authToken } = ctx.twilio.addAccount();
      const phoneNumber = randomNumber();
      ctx.twilio.addNumber(accountSid, { phoneNumber });
      const key = randomUUID();
      const connect = () =>
        authed(ctx.t.http, apiKey)
          .put(`/api/chatbots/${chatbotId}/channels/sms`)
          .set('Idempotency-Key', key)
          .send({ accountSid, authToken, phoneNumber, configureWebhook: true });
      return { chatbotId, accountSid, connect };
    }

    it('repeated with one key probes Twilio once and keeps connectedAt', async () => {
      const { chatbotId, accountSid, connect } = await connectTarget();
      const probes = () =>
        ctx.twilio.requests.filter(
          (r) => r.operationId === 'FetchAccount' && r.authAccountSid === accountSid,
        ).length;
      const first = await connect().expect(200);
      const probed = probes();
      const [before] = await db.query(
        'SELECT connected_at FROM sms_channels WHERE chatbot_id = $1',
        [chatbotId],
      );
      const second = await connect().expect(200);
      expect(second.body).toEqual(first.body);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(probes()).toBe(probed);
      const [after] = await db.query(
        'SELECT connected_at FROM sms_channels WHERE chatbot_id = $1',
        [chatbotId],
      );
      expect(after.connected_at).toEqual(before.connected_at);
    });

    it('two concurrent requests with one key: one runs, the other is 409 IDEMPOTENCY_KEY_IN_PROGRESS', async () => {
      const { accountSid, connect } = await connectTarget();
      // The first request's probe is held at Twilio while the second arrives.
      ctx.twilio.delayNext(1, 3000, { operationId: 'FetchAccount' });
      const first = connect().then((res) => res);
      await eventually(async () =>
        ctx.twilio.requests.some(
          (r) => r.operationId === 'FetchAccount' && r.authAccountSid === accountSid,
        ),
      );
      const second = await connect();
      expect(second.status).toBe(409);
      expectError(second.body, 409, 'IDEMPOTENCY_KEY_IN_PROGRESS');
      expect((await first).status).toBe(200);
      // Once the first has finished, a repeat is its replay.
      const third = await connect().expect(200);
      expect(third.headers['idempotent-replayed']).toBe('true');
    });

    it('a 5xx first attempt is not kept: a retry with the same key runs again', async () => {
      const { connect } = await connectTarget();
      ctx.twilio.failNext(1, { status: 503 }, { operationId: 'FetchAccount' });
      expectError((await connect().expect(503)).body, 503, 'TWILIO_UNREACHABLE');
      const retry = await connect().expect(200);
      expect(retry.headers['idempotent-replayed']).toBeUndefined();
      expect(retry.body.connected).toBe(true);
    });
  });

  it('a request refused by validation is not kept: the corrected body may use the key', async () => {
    const key = randomUUID();
    const create = (body: object) =>
      authed(ctx.t.http, main.apiKey).post('/api/chatbots').set('Idempotency-Key', key).send(body);
    expectError((await create({ name: 42 }).expect(400)).body, 400, 'VALIDATION_FAILED');
    await create({ name: 'Fixed' }).expect(201);
  });

  it('knowledge upload, escalate and release replay their first result', async () => {
    const { conversationId } = await openConversation();
    const api = authed(ctx.t.http, main.apiKey);
    const key = randomUUID();
    const upload = () =>
      api
        .post(`/api/chatbots/${main.chatbotId}/knowledge`)
        .set('Idempotency-Key', key)
        .send({ title: 'Returns', content: 'Returns are free within 30 days.' });
    const first = await upload().expect(201);
    expect((await upload().expect(201)).body).toEqual(first.body);
    expect(
      await countRows(ctx, 'knowledge_documents WHERE chatbot_id = $1', [main.chatbotId]),
    ).toBe(1);
    const releaseKey = randomUUID();
    const released = await api
      .post(`/api/conversations/${conversationId}/release`)
      .set('Idempotency-Key', releaseKey)
      .expect(200);
    await api.post(`/api/conversations/${conversationId}/escalate`).expect(200);
    const replay = await api
      .post(`/api/conversations/${conversationId}/release`)
      .set('Idempotency-Key', releaseKey)
      .expect(200);
    expect(replay.body).toEqual(released.body);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    // The replay did not release again: the conversation stays with the human.
    const [row] = await db.query('SELECT status FROM conversations WHERE id = $1', [
      conversationId,
    ]);
    expect(row.status).toBe('human');
  });

  it.each([
    { label: 'empty', key: '' },
    { label: 'over 255 characters', key: 'a'.repeat(256) },
    { label: 'with a space', key: 'has space' },
  ])('refuses a malformed key ($label) with 400 naming the header', async ({ key }) => {
    const res = await authed(ctx.t.http, main.apiKey)
      .post('/api/chatbots')
      .set('Idempotency-Key', key)
      .send({ name: 'Bot' })
      .expect(400);
    expectError(res.body, 400, 'VALIDATION_FAILED');
    expect(res.body.details).toEqual([expect.objectContaining({ field: 'Idempotency-Key' })]);
  });
});
