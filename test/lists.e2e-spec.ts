/**
 * The one list convention on every list (chatbots, knowledge, conversations, a conversation's
 * messages): `{items, nextCursor}`, a bounded `limit`, a `cursor` that pages through everything
 * once; and unknown query parameters refused with 400 on every dashboard route.
 */
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { authed, expectError, startTestApp, TestApp } from './support/test-app';

describe('lists and query parameters', () => {
  let t: TestApp;
  let db: DataSource;
  let api: ReturnType<typeof authed>;
  let organizationId: string;
  let chatbotId: string;
  let conversationId: string;
  const MESSAGES = 503;

  beforeAll(async () => {
    t = await startTestApp();
    db = t.running.app.get(DataSource);
    const org = await t.createOrganization();
    organizationId = org.organizationId;
    api = authed(t.http, org.apiKey);
    const ids: string[] = [];
    for (const name of ['One', 'Two', 'Three'])
      ids.push((await api.post('/api/chatbots').send({ name }).expect(201)).body.id);
    chatbotId = ids[0];
    for (const title of ['A', 'B', 'C'])
      await api
        .post(`/api/chatbots/${chatbotId}/knowledge`)
        .send({ title, content: `Knowledge ${title}.` })
        .expect(201);
    [{ id: conversationId }] = await db.query(
      `INSERT INTO conversations (organization_id, chatbot_id, channel, customer_number, sender,
         status, last_message_at, last_message_preview)
       VALUES ($1, $2, 'sms', '+358401111111', '+358402222222', 'bot', now(), 'hi') RETURNING id`,
      [organizationId, chatbotId],
    );
    // More than the conversation view's 500, one second apart, and two sharing one instant.
    await db.query(
      `INSERT INTO messages (conversation_id, organization_id, direction, author, body,
         delivery_status, created_at)
       SELECT $1, $2, 'inbound', 'customer', 'message ' || i, 'received',
         timestamptz '2026-01-01T00:00:00Z' + make_interval(secs => least(i, $3 - 1))
       FROM generate_series(1, $3) i`,
      [conversationId, organizationId, MESSAGES],
    );
  });
  afterAll(() => t.close());

  /** Every item of a list, following nextCursor, `limit` at a time. */
  async function pageThrough(path: string, limit: number) {
    const items: { id: string; body?: string; title?: string; name?: string }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: URLSearchParams = new URLSearchParams({
        limit: String(limit),
        ...(cursor ? { cursor } : {}),
      });
      const res: { body: { items: []; nextCursor: string | null } } = await api
        .get(`${path}?${query}`)
        .expect(200);
      expect(Object.keys(res.body).sort()).toEqual(['items', 'nextCursor']);
      expect(res.body.items.length).toBeLessThanOrEqual(limit);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
      pages += 1;
    } while (cursor);
    return { items, pages };
  }

  it('chatbots: oldest first, two at a time', async () => {
    const { items, pages } = await pageThrough('/api/chatbots', 2);
    expect(items.map((c) => c.name)).toEqual(['One', 'Two', 'Three']);
    expect(pages).toBe(2);
  });

  it('knowledge: oldest first, one at a time', async () => {
    const { items, pages } = await pageThrough(`/api/chatbots/${chatbotId}/knowledge`, 1);
    expect(items.map((d) => d.title)).toEqual(['A', 'B', 'C']);
    expect(pages).toBe(3);
  });

  it("a conversation's messages: newest first, every one of them once, past the view's 500", async () => {
    const { items } = await pageThrough(`/api/conversations/${conversationId}/messages`, 100);
    expect(items).toHaveLength(MESSAGES);
    expect(new Set(items.map((m) => m.id)).size).toBe(MESSAGES);
    expect(items.at(-1)?.body).toBe('message 1');
    const view = await api.get(`/api/conversations/${conversationId}`).expect(200);
    expect(view.body.hasEarlierMessages).toBe(true);
  });

  it("another organization's conversation has no messages to list: 404", async () => {
    const other = await t.createOrganization();
    const res = await authed(t.http, other.apiKey)
      .get(`/api/conversations/${conversationId}/messages`)
      .expect(404);
    expectError(res.body, 404, 'NOT_FOUND');
  });

  const lists = () => [
    '/api/chatbots',
    `/api/chatbots/${chatbotId}/knowledge`,
    `/api/chatbots/${chatbotId}/conversations`,
    `/api/conversations/${conversationId}/messages`,
  ];

  it.each(['0', '101', '1.5', 'ten'])(
    'limit=%s is 400 naming limit on every list',
    async (limit) => {
      for (const path of lists()) {
        const res = await api.get(`${path}?limit=${limit}`).expect(400);
        expectError(res.body, 400, 'VALIDATION_FAILED');
        expect(res.body.details).toEqual([expect.objectContaining({ field: 'limit' })]);
      }
    },
  );

  it('a cursor this API did not issue is 400 naming cursor on every list', async () => {
    for (const path of lists()) {
      const res = await api.get(`${path}?cursor=not-a-cursor`).expect(400);
      expect(res.body.details).toEqual([expect.objectContaining({ field: 'cursor' })]);
    }
  });

  it('an unknown query parameter is 400 naming it on every dashboard route, lists or not', async () => {
    const routes: [string, string][] = [
      ...lists().map((path): [string, string] => ['get', path]),
      ['get', `/api/chatbots/${chatbotId}`],
      ['get', `/api/chatbots/${chatbotId}/channels/sms`],
      ['get', `/api/conversations/${conversationId}`],
      ['post', `/api/conversations/${conversationId}/escalate`],
      ['delete', `/api/chatbots/${chatbotId}/knowledge/${randomUUID()}`],
    ];
    for (const [method, path] of routes) {
      const res = await (method === 'get'
        ? api.get(`${path}?_=1`)
        : method === 'post'
          ? api.post(`${path}?_=1`)
          : api.delete(`${path}?_=1`));
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 400 });
      expect(res.body.details).toEqual([{ field: '_', message: 'property _ should not exist' }]);
    }
    // The escalate above was refused before it ran.
    const [row] = await db.query('SELECT status FROM conversations WHERE id = $1', [
      conversationId,
    ]);
    expect(row.status).toBe('bot');
  });

  it('the probes ignore query parameters (they are not the dashboard)', async () => {
    await api.get('/api/health/live?_=1').expect(200);
  });
});
