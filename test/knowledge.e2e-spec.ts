import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { PassageIndex } from '../src/modules/agent/knowledge/passage-index';
import { splitIntoPassages } from '../src/modules/agent/knowledge/passage-splitter';
import { authed, expectError, startTestApp, TestApp } from './support/test-app';

type Api = ReturnType<typeof authed>;

describe('knowledge base: documents, passages, full-text search', () => {
  let t: TestApp;
  let api: Api;
  let otherApi: Api;
  let db: DataSource;

  const createChatbot = async (
    client: Api,
    body: object = {},
  ): Promise<{ id: string; language: string }> =>
    (
      await client
        .post('/api/chatbots')
        .send({ name: 'Bot', ...body })
        .expect(201)
    ).body;

  const addDocument = async (client: Api, chatbotId: string, title: string, content: string) =>
    (await client.post(`/api/chatbots/${chatbotId}/knowledge`).send({ title, content }).expect(201))
      .body as { id: string; title: string; passages: number; createdAt: string };

  beforeAll(async () => {
    t = await startTestApp();
    api = authed(t.http, (await t.createOrganization()).apiKey);
    otherApi = authed(t.http, (await t.createOrganization()).apiKey);
    db = t.running.app.get(DataSource);
  });
  afterAll(() => t.close());

  it('keeps every entity and the migrations in step (migration:generate would find nothing)', async () => {
    const pending = await db.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  it('adds a document: 201 with its passage count, passages stored in order with vectors', async () => {
    const bot = await createChatbot(api, { language: 'english' });
    const content = Array.from({ length: 12 }, (_, i) =>
      `Paragraph ${i} explains how refunds work in case number ${i}. `.repeat(4),
    ).join('\n\n');
    const res = await api
      .post(`/api/chatbots/${bot.id}/knowledge`)
      .send({ title: '  Refunds  ', content })
      .expect(201);
    const expected = splitIntoPassages(content);
    expect(expected.length).toBeGreaterThan(1);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      title: 'Refunds',
      passages: expected.length,
      createdAt: expect.any(String),
    });
    const rows: { position: number; content: string; chatbot_id: string; vector: string }[] =
      await db.query(
        `SELECT position, content, chatbot_id, search_vector::text AS vector
         FROM knowledge_passages WHERE document_id = $1 ORDER BY position`,
        [res.body.id],
      );
    expect(rows.map((row) => row.content)).toEqual(expected);
    expect(rows.map((row) => row.position)).toEqual(expected.map((_, i) => i));
    expect(rows.every((row) => row.chatbot_id === bot.id)).toBe(true);
    // 'english' stems: "refunds" is indexed as 'refund'.
    expect(rows[0].vector).toContain("'refund'");
  });

  it('accepts content of exactly 100,000 characters', async () => {
    const bot = await createChatbot(api);
    const content = (
      'The warranty covers manufacturing defects. '.repeat(2_400) + 'x'.repeat(100_000)
    ).slice(0, 100_000);
    const doc = await addDocument(api, bot.id, 'Long', content);
    expect(doc.passages).toBe(splitIntoPassages(content).length);
  });

  it('lists documents oldest first, without their content', async () => {
    const bot = await createChatbot(api);
    const first = await addDocument(api, bot.id, 'Shipping', 'We ship within two days.');
    const second = await addDocument(api, bot.id, 'Returns', 'Returns are free for 30 days.');
    const other = await createChatbot(api);
    await addDocument(api, other.id, 'Elsewhere', 'Another chatbot.');
    const res = await api.get(`/api/chatbots/${bot.id}/knowledge`).expect(200);
    expect(res.body).toEqual({ items: [first, second], nextCursor: null });
    expect(res.body.items[0]).toEqual({
      id: first.id,
      title: 'Shipping',
      passages: 1,
      createdAt: first.createdAt,
    });
  });

  it('deletes a document with its passages: 204, then 404', async () => {
    const bot = await createChatbot(api);
    const doc = await addDocument(api, bot.id, 'Temp', 'Temporary knowledge.');
    await api.delete(`/api/chatbots/${bot.id}/knowledge/${doc.id}`).expect(204);
    expect((await api.get(`/api/chatbots/${bot.id}/knowledge`).expect(200)).body).toEqual({
      items: [],
      nextCursor: null,
    });
    const [{ count }] = await db.query(
      'SELECT count(*)::int AS count FROM knowledge_passages WHERE document_id = $1',
      [doc.id],
    );
    expect(count).toBe(0);
    const again = await api.delete(`/api/chatbots/${bot.id}/knowledge/${doc.id}`).expect(404);
    expectError(again.body, 404, 'NOT_FOUND');
  });

  describe('validation', () => {
    let botId: string;
    beforeAll(async () => {
      botId = (await createChatbot(api)).id;
    });

    it.each([
      ['a missing title', { content: 'x' }, 'title'],
      ['a blank title', { title: '   ', content: 'x' }, 'title'],
      ['a title over 200 characters', { title: 't'.repeat(201), content: 'x' }, 'title'],
      ['missing content', { title: 't' }, 'content'],
      ['blank content', { title: 't', content: ' \n\n ' }, 'content'],
      ['content over 100,000 characters', { title: 't', content: 'c'.repeat(100_001) }, 'content'],
      ['non-string content', { title: 't', content: 42 }, 'content'],
    ])('refuses %s with 400 VALIDATION_FAILED', async (_case, body, field) => {
      const res = await api.post(`/api/chatbots/${botId}/knowledge`).send(body).expect(400);
      expectError(res.body, 400, 'VALIDATION_FAILED');
      expect(res.body.details).toEqual([expect.objectContaining({ field })]);
    });

    it('refuses non-UUID ids with 400 VALIDATION_FAILED', async () => {
      const res = await api.delete(`/api/chatbots/${botId}/knowledge/nope`).expect(400);
      expect(res.body.details).toEqual([
        { field: 'documentId', message: 'documentId must be a UUID' },
      ]);
      await api.get('/api/chatbots/nope/knowledge').expect(400);
    });
  });

  describe('tenancy', () => {
    it("answers 404 for another organization's chatbot and stores nothing", async () => {
      const theirs = await createChatbot(otherApi);
      const doc = await addDocument(otherApi, theirs.id, 'Secret', 'Their private knowledge.');
      const base = `/api/chatbots/${theirs.id}/knowledge`;
      expectError(
        (await api.post(base).send({ title: 'x', content: 'y' }).expect(404)).body,
        404,
        'NOT_FOUND',
      );
      expectError((await api.get(base).expect(404)).body, 404, 'NOT_FOUND');
      expectError((await api.delete(`${base}/${doc.id}`).expect(404)).body, 404, 'NOT_FOUND');
      expect((await otherApi.get(base).expect(200)).body.items).toEqual([doc]);
    });

    it("answers 404 for a document of another chatbot, or through one's own chatbot for theirs", async () => {
      const mine = await createChatbot(api);
      const alsoMine = await createChatbot(api);
      const doc = await addDocument(api, mine.id, 'Mine', 'My knowledge.');
      await api.delete(`/api/chatbots/${alsoMine.id}/knowledge/${doc.id}`).expect(404);

      const theirs = await createChatbot(otherApi);
      const theirDoc = await addDocument(otherApi, theirs.id, 'Theirs', 'Their knowledge.');
      await api.delete(`/api/chatbots/${mine.id}/knowledge/${theirDoc.id}`).expect(404);
      await api.delete(`/api/chatbots/${mine.id}/knowledge/${randomUUID()}`).expect(404);
      expect(
        (await otherApi.get(`/api/chatbots/${theirs.id}/knowledge`).expect(200)).body.items,
      ).toHaveLength(1);
    });
  });

  describe('search', () => {
    let index: PassageIndex;
    beforeAll(() => {
      index = t.running.app.get(PassageIndex);
    });

    it('finds passages by any of the question’s words, best coverage first, only in that chatbot', async () => {
      const bot = await createChatbot(api, { language: 'english' });
      await addDocument(
        api,
        bot.id,
        'Account',
        'Reset your password from the settings page.\n\nYour password must have 12 characters.',
      );
      await addDocument(api, bot.id, 'Billing', 'Invoices are emailed every month.');
      const other = await createChatbot(api, { language: 'english' });
      await addDocument(api, other.id, 'Other', 'Reset your password by calling us.');

      const result = await index.search(bot, 'how do I reset my password', 5);
      expect(result.terms.map((term) => term.lexeme).sort()).toEqual(['password', 'reset']);
      expect(result.passages.map((p) => p.content)).toEqual([
        'Reset your password from the settings page.\n\nYour password must have 12 characters.',
      ]);
      expect(result.passages[0]).toMatchObject({ documentTitle: 'Account', matchedTerms: 2 });
      expect((await index.search(bot, 'when are invoices sent?', 5)).passages).toHaveLength(1);
      expect((await index.search(bot, 'what is the weather on Mars?', 5)).passages).toEqual([]);
    });

    it("ignores common words under the 'simple' configuration", async () => {
      const bot = await createChatbot(api);
      await addDocument(
        api,
        bot.id,
        'Hours',
        'The shop is open on weekdays. It is closed on Sunday.',
      );
      expect((await index.search(bot, 'Is the shop open?', 5)).passages).toHaveLength(1);
      expect((await index.search(bot, 'how is it going with you?', 5)).passages).toEqual([]);
    });

    it("finds longer word forms under 'simple', which does not stem", async () => {
      const bot = await createChatbot(api);
      await addDocument(api, bot.id, 'Refunds', 'Refunds are paid within five days.');
      const result = await index.search(bot, 'When do I get my refund?', 5);
      expect(result.passages).toHaveLength(1);
      expect(result.passages[0].matchedTerms).toBe(1);
    });

    it('treats the question as data, never as query syntax', async () => {
      const bot = await createChatbot(api, { language: 'english' });
      await addDocument(api, bot.id, 'Doc', "It's a café & bar: open 9-17 (daily)!");
      for (const question of ["it's", "'&|!:*()<->", '\\', "café' | 'bar", 'a:* & !b']) {
        await expect(index.search(bot, question, 5)).resolves.toBeDefined();
      }
      expect((await index.search(bot, 'CAFÉ?', 5)).passages).toHaveLength(1);
    });

    it("rebuilds the vectors when the chatbot's language changes", async () => {
      const bot = await createChatbot(api);
      await addDocument(api, bot.id, 'Sport', 'We sell running shoes.');
      // 'simple' neither stems nor sees "runs" as a prefix of "running"; 'english' stems both to 'run'.
      expect((await index.search(bot, 'runs', 5)).passages).toEqual([]);
      const patched = (
        await api.patch(`/api/chatbots/${bot.id}`).send({ language: 'english' }).expect(200)
      ).body;
      expect((await index.search(patched, 'runs', 5)).passages).toHaveLength(1);
    });
  });
});
