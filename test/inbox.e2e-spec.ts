/**
 * The inbox on the real app: conversations and messages are inserted straight into the database
 * (the webhook that normally writes them is tested elsewhere), then read, routed and answered
 * through the API.
 */
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { authed, expectError } from './support/test-app';
import {
  connectChannel,
  ConnectedChannel,
  createChatbot,
  randomNumber,
  SmsTestContext,
  startSmsTestApp,
} from './support/sms-fixtures';

interface ConversationSeed {
  customerNumber?: string;
  status?: 'bot' | 'human' | 'closed';
  /** ISO text, microseconds kept: inserted as is. */
  lastMessageAt?: string;
  lastMessagePreview?: string;
  /** An opt-out of the conversation's sender is recorded for its customer. */
  optedOut?: boolean;
  channelId?: string | null;
  /** Default: the owner's number, else a random one. */
  sender?: string;
}

interface MessageSeed {
  direction: 'inbound' | 'outbound';
  author: 'customer' | 'bot' | 'agent';
  body: string;
  deliveryStatus: string;
  errorCode?: number | null;
  errorMessage?: string | null;
  segments?: number;
  encoding?: string;
  mediaDropped?: number;
  createdAt: string;
}

describe('Inbox', () => {
  let ctx: SmsTestContext;
  let db: DataSource;
  /** An organization with a chatbot and a connected number, shared by most tests. */
  let main: ConnectedChannel & { channelId: string };

  beforeAll(async () => {
    ctx = await startSmsTestApp();
    db = ctx.t.running.app.get(DataSource);
    main = await connectWithChannelId();
  });
  afterAll(() => ctx.close());

  async function connectWithChannelId(): Promise<ConnectedChannel & { channelId: string }> {
    const channel = await connectChannel(ctx);
    const [{ id }] = await db.query('SELECT id FROM sms_channels WHERE chatbot_id = $1', [
      channel.chatbotId,
    ]);
    return { ...channel, channelId: id as string };
  }

  async function insertConversation(
    owner: { organizationId: string; chatbotId: string; channelId?: string; phoneNumber?: string },
    seed: ConversationSeed = {},
  ): Promise<string> {
    const customerNumber = seed.customerNumber ?? randomNumber();
    const sender = seed.sender ?? owner.phoneNumber ?? randomNumber();
    const [{ id }] = await db.query(
      `INSERT INTO conversations
         (organization_id, chatbot_id, channel, channel_id, customer_number, sender, status,
          last_message_at, last_message_preview)
       VALUES ($1, $2, 'sms', $3, $4, $5, $6, $7, $8) RETURNING id`,
      [
        owner.organizationId,
        owner.chatbotId,
        seed.channelId === undefined ? (owner.channelId ?? null) : seed.channelId,
        customerNumber,
        sender,
        seed.status ?? 'bot',
        seed.lastMessageAt ?? new Date().toISOString(),
        seed.lastMessagePreview ?? 'Hello?',
      ],
    );
    if (seed.optedOut) await optOut(sender, customerNumber);
    return id as string;
  }

  async function optOut(sender: string, customerNumber: string): Promise<void> {
    await db.query(
      `INSERT INTO sms_opt_outs (sender, customer_number, source) VALUES ($1, $2, 'keyword')`,
      [sender, customerNumber],
    );
  }

  async function insertMessage(
    organizationId: string,
    conversationId: string,
    m: MessageSeed,
  ): Promise<string> {
    const [{ id }] = await db.query(
      `INSERT INTO messages
         (conversation_id, organization_id, direction, author, body, delivery_status, error_code,
          error_message, segments, encoding, media_dropped, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
      [
        conversationId,
        organizationId,
        m.direction,
        m.author,
        m.body,
        m.deliveryStatus,
        m.errorCode ?? null,
        m.errorMessage ?? null,
        m.segments ?? 1,
        m.encoding ?? 'GSM-7',
        m.mediaDropped ?? 0,
        m.createdAt,
      ],
    );
    return id as string;
  }

  async function conversationRow(id: string) {
    const [row] = await db.query(
      'SELECT status, last_message_at, last_message_preview FROM conversations WHERE id = $1',
      [id],
    );
    return row as { status: string; last_message_at: Date; last_message_preview: string };
  }

  async function messageCount(conversationId: string): Promise<number> {
    const [{ count }] = await db.query(
      'SELECT count(*)::int AS count FROM messages WHERE conversation_id = $1',
      [conversationId],
    );
    return count as number;
  }

  async function sendJobCount(messageId: string): Promise<number> {
    const [{ count }] = await db.query(
      "SELECT count(*)::int AS count FROM pgboss.job WHERE name = 'sms-send' AND data->>'messageId' = $1",
      [messageId],
    );
    return count as number;
  }

  describe('GET /api/chatbots/:chatbotId/conversations', () => {
    const COUNT = 45;
    const STATUSES = ['bot', 'human', 'closed'] as const;
    let owner: { organizationId: string; chatbotId: string; apiKey: string };
    /** The seeded conversations in the order the API must return them. */
    let expected: { id: string; status: string; customerNumber: string }[];

    beforeAll(async () => {
      const { organizationId, apiKey } = await ctx.t.createOrganization('starter');
      const chatbotId = await createChatbot(ctx, apiKey, 'Paged bot');
      owner = { organizationId, chatbotId, apiKey };
      // Every conversation falls in the same millisecond, three at a time on the same microsecond:
      // only a cursor that keeps microseconds and breaks ties by id walks this without a slip.
      const seeded: { id: string; tick: number; status: string; customerNumber: string }[] = [];
      for (let i = 0; i < COUNT; i += 1) {
        const tick = Math.floor(i / 3);
        const customerNumber = `+3585000${String(i).padStart(4, '0')}`;
        const status = STATUSES[i % 3];
        const id = await insertConversation(owner, {
          customerNumber,
          status,
          lastMessageAt: `2025-11-20T10:00:00.123${String(tick).padStart(3, '0')}Z`,
          lastMessagePreview: `message ${i}`,
        });
        seeded.push({ id, tick, status, customerNumber });
      }
      expected = seeded
        .sort((a, b) => b.tick - a.tick || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
        .map(({ id, status, customerNumber }) => ({ id, status, customerNumber }));
    });

    async function walk(query: string): Promise<{ pages: number[]; ids: string[] }> {
      const api = authed(ctx.t.http, owner.apiKey);
      const pages: number[] = [];
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const suffix: string = cursor ? `&cursor=${cursor}` : '';
        const res = await api
          .get(`/api/chatbots/${owner.chatbotId}/conversations?${query}${suffix}`)
          .expect(200);
        pages.push(res.body.items.length);
        ids.push(...res.body.items.map((c: { id: string }) => c.id));
        cursor = res.body.nextCursor;
        expect(pages.length).toBeLessThan(10);
      } while (cursor);
      return { pages, ids };
    }

    it('walks pages of 20 newest first, without duplicates, ending with nextCursor null', async () => {
      const { pages, ids } = await walk('channel=sms&limit=20');
      expect(pages).toEqual([20, 20, 5]);
      expect(new Set(ids).size).toBe(COUNT);
      expect(ids).toEqual(expected.map((c) => c.id));
    });

    it('ends with nextCursor null when the last page is exactly full', async () => {
      const { pages, ids } = await walk('limit=15');
      expect(pages).toEqual([15, 15, 15]);
      expect(ids).toEqual(expected.map((c) => c.id));
    });

    it('defaults to 20 per page', async () => {
      const res = await authed(ctx.t.http, owner.apiKey)
        .get(`/api/chatbots/${owner.chatbotId}/conversations`)
        .expect(200);
      expect(res.body.items).toHaveLength(20);
      expect(res.body.nextCursor).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]+$/));
    });

    it('returns the contract fields of each conversation', async () => {
      const res = await authed(ctx.t.http, owner.apiKey)
        .get(`/api/chatbots/${owner.chatbotId}/conversations?limit=1`)
        .expect(200);
      const [first] = expected;
      expect(res.body.items).toEqual([
        {
          id: first.id,
          chatbotId: owner.chatbotId,
          channel: 'sms',
          customerNumber: first.customerNumber,
          status: first.status,
          optedOut: false,
          lastMessagePreview: expect.stringMatching(/^message \d+$/),
          lastMessageAt: '2025-11-20T10:00:00.123Z',
          createdAt: expect.any(String),
        },
      ]);
    });

    it.each(STATUSES)('filters by status=%s, paginated', async (status) => {
      const { pages, ids } = await walk(`status=${status}&limit=10`);
      expect(pages).toEqual([10, 5]);
      expect(ids).toEqual(expected.filter((c) => c.status === status).map((c) => c.id));
    });

    it("reports optedOut: the customer's opt-out of the conversation's sender, even with no channel", async () => {
      const { organizationId, apiKey } = await ctx.t.createOrganization('starter');
      const chatbotId = await createChatbot(ctx, apiKey);
      const optedOut = await insertConversation(
        { organizationId, chatbotId },
        { optedOut: true, lastMessageAt: '2025-11-20T10:00:00.000Z' },
      );
      const customerNumber = randomNumber();
      // Opted out of another number only: not of this conversation's.
      await optOut(randomNumber(), customerNumber);
      const other = await insertConversation(
        { organizationId, chatbotId },
        { customerNumber, lastMessageAt: '2025-11-20T11:00:00.000Z' },
      );
      const res = await authed(ctx.t.http, apiKey)
        .get(`/api/chatbots/${chatbotId}/conversations`)
        .expect(200);
      expect(res.body.items).toEqual([
        expect.objectContaining({ id: other, optedOut: false }),
        expect.objectContaining({ id: optedOut, optedOut: true }),
      ]);
      expect(res.body.nextCursor).toBeNull();
      const detail = await authed(ctx.t.http, apiKey)
        .get(`/api/conversations/${optedOut}`)
        .expect(200);
      expect(detail.body.optedOut).toBe(true);
    });

    it('answers an empty page for a chatbot without conversations', async () => {
      const chatbotId = await createChatbot(ctx, owner.apiKey, 'Quiet bot');
      const res = await authed(ctx.t.http, owner.apiKey)
        .get(`/api/chatbots/${chatbotId}/conversations`)
        .expect(200);
      expect(res.body).toEqual({ items: [], nextCursor: null });
    });

    it.each([
      ['cursor', 'cursor=not-a-cursor!'],
      ['cursor', `cursor=${Buffer.from('yesterday|42').toString('base64url')}`],
      ['cursor', 'cursor='],
      ['limit', 'limit=0'],
      ['limit', 'limit=101'],
      ['limit', 'limit=ten'],
      ['limit', 'limit=2.5'],
      ['status', 'status=open'],
      ['channel', 'channel=whatsapp'],
    ])('rejects a bad %s with 400 VALIDATION_FAILED (%s)', async (field, query) => {
      const res = await authed(ctx.t.http, owner.apiKey)
        .get(`/api/chatbots/${owner.chatbotId}/conversations?${query}`)
        .expect(400);
      expectError(res.body, 400, 'VALIDATION_FAILED');
      expect(res.body.details).toEqual([expect.objectContaining({ field })]);
    });

    it('rejects a chatbot id that is not a UUID', async () => {
      const res = await authed(ctx.t.http, owner.apiKey)
        .get('/api/chatbots/nope/conversations')
        .expect(400);
      expectError(res.body, 400, 'VALIDATION_FAILED');
    });

    it("answers 404 for another organization's chatbot and for an unknown one", async () => {
      const stranger = await ctx.t.createOrganization('starter');
      const api = authed(ctx.t.http, stranger.apiKey);
      const res = await api.get(`/api/chatbots/${owner.chatbotId}/conversations`).expect(404);
      expectError(res.body, 404, 'NOT_FOUND');
      await api.get(`/api/chatbots/${randomUUID()}/conversations`).expect(404);
    });

    it('answers 401 without an API key', async () => {
      const res = await authed(ctx.t.http, 'wrong')
        .get(`/api/chatbots/${owner.chatbotId}/conversations`)
        .expect(401);
      expectError(res.body, 401, 'UNAUTHORIZED');
    });
  });

  describe('GET /api/conversations/:conversationId', () => {
    it('returns the conversation and its messages in order with every field', async () => {
      const customerNumber = randomNumber();
      const conversationId = await insertConversation(main, {
        customerNumber,
        lastMessagePreview: 'Your order was sent on Monday.',
        lastMessageAt: '2025-11-20T10:00:03.000Z',
      });
      const api = authed(ctx.t.http, main.apiKey);
      const inbound = await insertMessage(main.organizationId, conversationId, {
        direction: 'inbound',
        author: 'customer',
        body: 'Where is my order?',
        deliveryStatus: 'received',
        mediaDropped: 2,
        createdAt: '2025-11-20T10:00:00.000Z',
      });
      // Same instant as the failed one below: the id breaks the tie.
      const sameInstant = [
        await insertMessage(main.organizationId, conversationId, {
          direction: 'outbound',
          author: 'bot',
          body: 'Your order was sent on Monday.',
          deliveryStatus: 'delivered',
          createdAt: '2025-11-20T10:00:01.000Z',
        }),
        await insertMessage(main.organizationId, conversationId, {
          direction: 'outbound',
          author: 'agent',
          body: 'Ääkköset ja emoji 😀',
          deliveryStatus: 'failed',
          errorCode: 30007,
          errorMessage: 'Message filtered by the carrier',
          encoding: 'UCS-2',
          createdAt: '2025-11-20T10:00:01.000Z',
        }),
      ].sort();
      const res = await api.get(`/api/conversations/${conversationId}`).expect(200);
      expect(res.body).toEqual({
        id: conversationId,
        chatbotId: main.chatbotId,
        channel: 'sms',
        customerNumber,
        status: 'bot',
        optedOut: false,
        lastMessagePreview: 'Your order was sent on Monday.',
        lastMessageAt: '2025-11-20T10:00:03.000Z',
        createdAt: expect.any(String),
        hasEarlierMessages: false,
        messages: [
          {
            id: inbound,
            direction: 'inbound',
            author: 'customer',
            body: 'Where is my order?',
            deliveryStatus: 'received',
            errorCode: null,
            errorMessage: null,
            segments: 1,
            encoding: 'GSM-7',
            mediaDropped: 2,
            createdAt: '2025-11-20T10:00:00.000Z',
          },
          expect.objectContaining({ id: sameInstant[0] }),
          expect.objectContaining({ id: sameInstant[1] }),
        ],
      });
      const failed = res.body.messages.find((m: { author: string }) => m.author === 'agent');
      expect(failed).toEqual(
        expect.objectContaining({
          direction: 'outbound',
          deliveryStatus: 'failed',
          errorCode: 30007,
          errorMessage: 'Message filtered by the carrier',
          encoding: 'UCS-2',
        }),
      );
    });

    it('returns only the latest 500 messages and says older ones were left out', async () => {
      const conversationId = await insertConversation(main);
      await db.query(
        `INSERT INTO messages (conversation_id, organization_id, direction, author, body, delivery_status, created_at)
         SELECT $1, $2, 'inbound', 'customer', 'message ' || n, 'received',
                timestamptz '2025-11-20T10:00:00Z' + n * interval '1 second'
         FROM generate_series(1, 502) AS n`,
        [conversationId, main.organizationId],
      );
      const res = await authed(ctx.t.http, main.apiKey)
        .get(`/api/conversations/${conversationId}`)
        .expect(200);
      expect(res.body.hasEarlierMessages).toBe(true);
      expect(res.body.messages).toHaveLength(500);
      expect(res.body.messages[0].body).toBe('message 3');
      expect(res.body.messages[499].body).toBe('message 502');
    });

    it('answers 400 for an id that is not a UUID and 404 for an unknown one', async () => {
      const api = authed(ctx.t.http, main.apiKey);
      expectError(
        (await api.get('/api/conversations/42').expect(400)).body,
        400,
        'VALIDATION_FAILED',
      );
      expectError(
        (await api.get(`/api/conversations/${randomUUID()}`).expect(404)).body,
        404,
        'NOT_FOUND',
      );
    });
  });

  describe('escalate and release', () => {
    it('hands the conversation to a person and back, idempotently', async () => {
      const conversationId = await insertConversation(main);
      const api = authed(ctx.t.http, main.apiKey);
      for (let i = 0; i < 2; i += 1) {
        const res = await api.post(`/api/conversations/${conversationId}/escalate`).expect(200);
        expect(res.body).toEqual(expect.objectContaining({ id: conversationId, status: 'human' }));
        expect((await conversationRow(conversationId)).status).toBe('human');
      }
      for (let i = 0; i < 2; i += 1) {
        const res = await api.post(`/api/conversations/${conversationId}/release`).expect(200);
        expect(res.body).toEqual(expect.objectContaining({ id: conversationId, status: 'bot' }));
        expect((await conversationRow(conversationId)).status).toBe('bot');
      }
    });

    it('answers 404 for an unknown conversation', async () => {
      const api = authed(ctx.t.http, main.apiKey);
      await api.post(`/api/conversations/${randomUUID()}/escalate`).expect(404);
      await api.post(`/api/conversations/${randomUUID()}/release`).expect(404);
    });
  });

  describe('POST /api/conversations/:conversationId/messages (a human reply)', () => {
    it('stores a pending agent message, takes the conversation over and queues the send', async () => {
      const conversationId = await insertConversation(main, {
        lastMessageAt: '2025-11-20T10:00:00.000Z',
      });
      const body = `Hi, this is Anna from support.\nYour parcel ships today. ${randomUUID()}`;
      const res = await authed(ctx.t.http, main.apiKey)
        .post(`/api/conversations/${conversationId}/messages`)
        .send({ body })
        .expect(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        direction: 'outbound',
        author: 'agent',
        body,
        deliveryStatus: 'pending',
        errorCode: null,
        errorMessage: null,
        segments: 1,
        encoding: 'GSM-7',
        mediaDropped: 0,
        createdAt: expect.any(String),
      });
      const [row] = await db.query(
        'SELECT conversation_id, organization_id, direction, author, body FROM messages WHERE id = $1',
        [res.body.id],
      );
      expect(row).toEqual({
        conversation_id: conversationId,
        organization_id: main.organizationId,
        direction: 'outbound',
        author: 'agent',
        body,
      });
      expect(await sendJobCount(res.body.id)).toBe(1);
      const conversation = await conversationRow(conversationId);
      expect(conversation.status).toBe('human');
      expect(conversation.last_message_preview).toBe(body.replace(/\s+/g, ' ').slice(0, 140));
      expect(conversation.last_message_at.getTime()).toBeGreaterThan(
        Date.parse('2025-11-20T10:00:00.000Z'),
      );
      const detail = await authed(ctx.t.http, main.apiKey)
        .get(`/api/conversations/${conversationId}`)
        .expect(200);
      expect(detail.body.messages.at(-1)).toEqual(expect.objectContaining({ id: res.body.id }));
    });

    it('counts segments and encoding of the body', async () => {
      const conversationId = await insertConversation(main);
      const body = 'Kiitos viestistä 😀 '.repeat(5).trim();
      const res = await authed(ctx.t.http, main.apiKey)
        .post(`/api/conversations/${conversationId}/messages`)
        .send({ body })
        .expect(201);
      expect(res.body).toEqual(expect.objectContaining({ encoding: 'UCS-2', segments: 2 }));
    });

    it('accepts exactly 1,600 characters', async () => {
      const conversationId = await insertConversation(main);
      const res = await authed(ctx.t.http, main.apiKey)
        .post(`/api/conversations/${conversationId}/messages`)
        .send({ body: 'a'.repeat(1600) })
        .expect(201);
      expect(res.body.segments).toBe(11);
    });

    it('accepts 800 emoji: 1,600 UTF-16 code units, as Twilio counts', async () => {
      const conversationId = await insertConversation(main);
      const res = await authed(ctx.t.http, main.apiKey)
        .post(`/api/conversations/${conversationId}/messages`)
        .send({ body: '😀'.repeat(800) })
        .expect(201);
      expect(res.body).toEqual(expect.objectContaining({ encoding: 'UCS-2' }));
    });

    it('sends the human reply through Twilio', async () => {
      const customerNumber = randomNumber();
      const conversationId = await insertConversation(main, { customerNumber });
      const body = `A person answers: ${randomUUID()}`;
      await authed(ctx.t.http, main.apiKey)
        .post(`/api/conversations/${conversationId}/messages`)
        .send({ body })
        .expect(201);
      const [sent] = await ctx.twilio.waitForMessages(1, 10_000, (m) => m.body === body);
      expect(sent.from).toBe(main.phoneNumber);
      expect(sent.to).toBe(customerNumber);
      expect(sent.accountSid).toBe(main.accountSid);
    });

    it.each([
      ['opted out of the number this conversation was last texted at', false],
      // The conversation was last texted at another number; the reply would leave from this one.
      ["opted out of the channel's number in another conversation", true],
    ])('refuses with 409 CONTACT_OPTED_OUT when the customer %s', async (_case, elsewhere) => {
      const customerNumber = randomNumber();
      if (elsewhere) await optOut(main.phoneNumber, customerNumber);
      const conversationId = await insertConversation(
        main,
        elsewhere ? { customerNumber, sender: randomNumber() } : { customerNumber, optedOut: true },
      );
      const res = await authed(ctx.t.http, main.apiKey)
        .post(`/api/conversations/${conversationId}/messages`)
        .send({ body: 'Are you still there?' })
        .expect(409);
      expectError(res.body, 409, 'CONTACT_OPTED_OUT');
      expect(await messageCount(conversationId)).toBe(0);
      expect((await conversationRow(conversationId)).status).toBe('bot');
    });

    it.each([
      ['a short code', '72345'],
      ['an alphanumeric sender ID', 'VERIFY'],
      ["the channel's own number", 'OWN'],
    ])('refuses with 409 CONTACT_NOT_REPLYABLE to %s', async (_kind, sender) => {
      const customerNumber = sender === 'OWN' ? main.phoneNumber : sender;
      const conversationId = await insertConversation(main, { customerNumber });
      const res = await authed(ctx.t.http, main.apiKey)
        .post(`/api/conversations/${conversationId}/messages`)
        .send({ body: 'Hello?' })
        .expect(409);
      expectError(res.body, 409, 'CONTACT_NOT_REPLYABLE');
      expect(await messageCount(conversationId)).toBe(0);
      expect((await conversationRow(conversationId)).status).toBe('bot');
    });

    it('refuses with 409 CHANNEL_NOT_CONNECTED once the number was disconnected', async () => {
      const channel = await connectWithChannelId();
      const conversationId = await insertConversation(channel);
      const api = authed(ctx.t.http, channel.apiKey);
      await api.delete(`/api/chatbots/${channel.chatbotId}/channels/sms`).expect(204);
      const res = await api
        .post(`/api/conversations/${conversationId}/messages`)
        .send({ body: 'Hello again' })
        .expect(409);
      expectError(res.body, 409, 'CHANNEL_NOT_CONNECTED');
      expect(await messageCount(conversationId)).toBe(0);
    });

    it.each([
      ['empty', { body: '' }],
      ['blank', { body: ' \n\t ' }],
      ['too long', { body: 'a'.repeat(1601) }],
      ['1,600-emoji (3,200 UTF-16 code units)', { body: '😀'.repeat(1600) }],
      ['801-emoji', { body: '😀'.repeat(801) }],
      ['missing', {}],
      ['not a string', { body: 42 }],
    ])('rejects a %s body with 400 VALIDATION_FAILED', async (_case, payload) => {
      const conversationId = await insertConversation(main);
      const res = await authed(ctx.t.http, main.apiKey)
        .post(`/api/conversations/${conversationId}/messages`)
        .send(payload)
        .expect(400);
      expectError(res.body, 400, 'VALIDATION_FAILED');
      expect(res.body.details).toEqual([expect.objectContaining({ field: 'body' })]);
      expect(await messageCount(conversationId)).toBe(0);
    });
  });

  it("answers 404 on every endpoint for another organization's conversation, changing nothing", async () => {
    const conversationId = await insertConversation(main, { status: 'bot' });
    const stranger = await ctx.t.createOrganization('starter');
    const api = authed(ctx.t.http, stranger.apiKey);
    const responses = [
      await api.get(`/api/chatbots/${main.chatbotId}/conversations`),
      await api.get(`/api/conversations/${conversationId}`),
      await api.post(`/api/conversations/${conversationId}/escalate`),
      await api.post(`/api/conversations/${conversationId}/release`),
      await api.post(`/api/conversations/${conversationId}/messages`).send({ body: 'Hi there' }),
    ];
    for (const res of responses) {
      expect(res.status).toBe(404);
      expectError(res.body, 404, 'NOT_FOUND');
      expect(JSON.stringify(res.body)).not.toContain(main.phoneNumber);
    }
    expect((await conversationRow(conversationId)).status).toBe('bot');
    expect(await messageCount(conversationId)).toBe(0);
  });

  it('documents the inbox in OpenAPI with its error responses', async () => {
    const res = await authed(ctx.t.http, main.apiKey).get('/api/docs-json').expect(200);
    const paths = res.body.paths;
    const reply = paths['/api/conversations/{conversationId}/messages'].post;
    expect(reply.tags).toEqual(['inbox']);
    expect(Object.keys(reply.responses).sort()).toEqual([
      '201',
      '400',
      '401',
      '404',
      '409',
      '413',
      '415',
      '422',
      '429',
      '503',
    ]);
    for (const [path, method, writes] of [
      ['/api/chatbots/{chatbotId}/conversations', 'get', false],
      ['/api/conversations/{conversationId}', 'get', false],
      ['/api/conversations/{conversationId}/messages', 'get', false],
      ['/api/conversations/{conversationId}/escalate', 'post', true],
      ['/api/conversations/{conversationId}/release', 'post', true],
    ] as const) {
      // The writes add the Idempotency-Key's 409 and 422.
      expect(Object.keys(paths[path][method].responses).sort()).toEqual(
        ['200', '400', '401', '404', '429', '503', ...(writes ? ['409', '422'] : [])].sort(),
      );
    }
    expect(res.body.components.schemas.SendAgentReply.properties.body.example).toEqual(
      expect.any(String),
    );
  });
});
