import { randomUUID } from 'node:crypto';
import { authed, expectError, startTestApp, TestApp } from './support/test-app';

describe('chatbots: CRUD and tenancy', () => {
  let t: TestApp;
  let api: ReturnType<typeof authed>;
  let otherApi: ReturnType<typeof authed>;

  beforeAll(async () => {
    t = await startTestApp();
    api = authed(t.http, (await t.createOrganization()).apiKey);
    otherApi = authed(t.http, (await t.createOrganization()).apiKey);
  });
  afterAll(() => t.close());

  it('creates a chatbot with defaults and returns it', async () => {
    const res = await api.post('/api/chatbots').send({ name: 'Support' }).expect(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Support',
      systemPrompt: '',
      fallbackMessage: expect.any(String),
      mediaOnlyReply: expect.any(String),
      language: 'simple',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(res.body.fallbackMessage.length).toBeGreaterThan(0);
  });

  it('lists only the organization’s chatbots, oldest first', async () => {
    const { apiKey } = await t.createOrganization();
    const own = authed(t.http, apiKey);
    const first = (await own.post('/api/chatbots').send({ name: 'First' }).expect(201)).body;
    const second = (
      await own
        .post('/api/chatbots')
        .send({ name: 'Second', systemPrompt: 'Be brief.', language: 'english' })
        .expect(201)
    ).body;
    await otherApi.post('/api/chatbots').send({ name: 'Not yours' }).expect(201);
    const res = await own.get('/api/chatbots').expect(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.items.map((c: { id: string }) => c.id)).toEqual([first.id, second.id]);
    expect(res.body.items[1]).toMatchObject({ systemPrompt: 'Be brief.', language: 'english' });
  });

  it('gets and patches a chatbot', async () => {
    const created = (await api.post('/api/chatbots').send({ name: 'Old name' }).expect(201)).body;
    expect((await api.get(`/api/chatbots/${created.id}`).expect(200)).body).toEqual(created);

    const res = await api
      .patch(`/api/chatbots/${created.id}`)
      .send({ name: 'New name', fallbackMessage: 'We will get back to you.', language: 'finnish' })
      .expect(200);
    expect(res.body).toMatchObject({
      id: created.id,
      name: 'New name',
      fallbackMessage: 'We will get back to you.',
      language: 'finnish',
      systemPrompt: '',
    });
    expect((await api.get(`/api/chatbots/${created.id}`).expect(200)).body).toEqual(res.body);
    // An empty patch changes nothing.
    expect(
      (await api.patch(`/api/chatbots/${created.id}`).send({}).expect(200)).body,
    ).toMatchObject({ name: 'New name', language: 'finnish' });
  });

  describe('validation', () => {
    it.each([
      ['a missing name', {}, 'name'],
      ['an empty name', { name: '' }, 'name'],
      ['a name over 200 characters', { name: 'x'.repeat(201) }, 'name'],
      ['an unknown language', { name: 'x', language: 'klingon' }, 'language'],
      [
        'an SQL-looking language',
        { name: 'x', language: "english'; DROP TABLE chatbots; --" },
        'language',
      ],
      ['a null system prompt', { name: 'x', systemPrompt: null }, 'systemPrompt'],
      ['an empty fallback message', { name: 'x', fallbackMessage: '' }, 'fallbackMessage'],
      ['an unknown field', { name: 'x', organizationId: randomUUID() }, 'organizationId'],
    ])('refuses %s with 400 VALIDATION_FAILED', async (_case, body, field) => {
      const res = await api.post('/api/chatbots').send(body).expect(400);
      expectError(res.body, 400, 'VALIDATION_FAILED');
      expect(res.body.details).toEqual(
        expect.arrayContaining([expect.objectContaining({ field })]),
      );
    });

    it.each([
      ['a null name', { name: null }, 'name'],
      ['a null language', { language: null }, 'language'],
      ['an unknown language', { language: 'klingon' }, 'language'],
    ])('refuses a patch with %s', async (_case, body, field) => {
      const created = (await api.post('/api/chatbots').send({ name: 'Valid' }).expect(201)).body;
      const res = await api.patch(`/api/chatbots/${created.id}`).send(body).expect(400);
      expectError(res.body, 400, 'VALIDATION_FAILED');
      expect(res.body.details).toEqual([expect.objectContaining({ field })]);
      expect((await api.get(`/api/chatbots/${created.id}`).expect(200)).body.name).toBe('Valid');
    });
  });

  describe('tenancy and ids', () => {
    it("answers 404 for another organization's chatbot, and leaves it unchanged", async () => {
      const theirs = (await otherApi.post('/api/chatbots').send({ name: 'Theirs' }).expect(201))
        .body;
      expectError((await api.get(`/api/chatbots/${theirs.id}`).expect(404)).body, 404, 'NOT_FOUND');
      const patch = await api.patch(`/api/chatbots/${theirs.id}`).send({ name: 'Mine now' });
      expect(patch.status).toBe(404);
      expectError(patch.body, 404, 'NOT_FOUND');
      expect((await otherApi.get(`/api/chatbots/${theirs.id}`).expect(200)).body.name).toBe(
        'Theirs',
      );
    });

    it('answers 404 for an unknown id', async () => {
      const id = randomUUID();
      expectError((await api.get(`/api/chatbots/${id}`).expect(404)).body, 404, 'NOT_FOUND');
      const patch = await api.patch(`/api/chatbots/${id}`).send({ name: 'x' }).expect(404);
      expectError(patch.body, 404, 'NOT_FOUND');
    });

    it('answers 400 VALIDATION_FAILED naming the parameter for a non-UUID id', async () => {
      for (const res of [
        await api.get('/api/chatbots/not-a-uuid').expect(400),
        await api.patch('/api/chatbots/1').send({ name: 'x' }).expect(400),
      ]) {
        expectError(res.body, 400, 'VALIDATION_FAILED');
        expect(res.body.details).toEqual([
          { field: 'chatbotId', message: 'chatbotId must be a UUID' },
        ]);
      }
    });

    it('requires an API key', async () => {
      const res = await authed(t.http, 'nope').get('/api/chatbots').expect(401);
      expectError(res.body, 401, 'UNAUTHORIZED');
    });
  });
});
