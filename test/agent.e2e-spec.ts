import { randomUUID } from 'node:crypto';
import { AgentService } from '../src/modules/agent/agent.service';
import { ChatbotsService } from '../src/modules/agent/chatbots.service';
import { authed, expectError, startTestApp, TestApp } from './support/test-app';

type Api = ReturnType<typeof authed>;

const FALLBACK = 'Good question! A person from our team will text you back.';

const DOCUMENTS = {
  account: {
    title: 'Account and passwords',
    content:
      'Reset your password from the settings page. We email you a link that works for 30 minutes.\n\n' +
      'Two-factor authentication can be turned on under Security as well.',
  },
  shipping: {
    title: 'Shipping',
    content:
      'We ship to all EU countries. Orders placed before 14:00 leave our warehouse the same day. ' +
      'Delivery takes 2 to 4 business days.\n\nShipping is free for orders over 50 EUR.',
  },
  returns: {
    title: 'Returns and refunds',
    content:
      'You can return any item within 30 days of delivery. Refunds are paid to the original ' +
      'payment method within 5 business days after we receive the item.',
  },
  hours: {
    title: 'Opening hours',
    content: '## Opening hours\nMonday to Friday 9 to 17.\nSaturday 10 to 14.\nClosed on Sundays.',
  },
};
type DocumentKey = keyof typeof DOCUMENTS;

describe('agent (local provider): POST /api/chatbots/:chatbotId/agent/reply', () => {
  let t: TestApp;
  let api: Api;
  let organizationId: string;
  let chatbotId: string;
  const documentIds = {} as Record<DocumentKey, string>;

  const reply = (message: string, extra: object = {}, id = chatbotId) =>
    api.post(`/api/chatbots/${id}/agent/reply`).send({ message, ...extra });

  beforeAll(async () => {
    t = await startTestApp();
    const org = await t.createOrganization();
    organizationId = org.organizationId;
    api = authed(t.http, org.apiKey);
    chatbotId = (
      await api
        .post('/api/chatbots')
        .send({ name: 'Shop', language: 'english', fallbackMessage: FALLBACK })
        .expect(201)
    ).body.id;
    for (const key of Object.keys(DOCUMENTS) as DocumentKey[]) {
      const res = await api
        .post(`/api/chatbots/${chatbotId}/knowledge`)
        .send(DOCUMENTS[key])
        .expect(201);
      documentIds[key] = res.body.id;
    }
  });
  afterAll(() => t.close());

  it.each<[string, DocumentKey, string]>([
    ['how do I reset my password', 'account', 'Reset your password from the settings page.'],
    ['How long does delivery take?', 'shipping', 'Delivery takes 2 to 4 business days.'],
    ['Is shipping free?', 'shipping', 'Shipping is free for orders over 50 EUR.'],
    ['When do I get my refund?', 'returns', 'Refunds are paid to the original payment method'],
    ['are you open on saturday', 'hours', 'Saturday 10 to 14.'],
    [
      'Can I turn on two-factor authentication?',
      'account',
      'Two-factor authentication can be turned on',
    ],
  ])('answers "%s" from the right document', async (question, document, excerpt) => {
    const res = await reply(question).expect(200);
    expect(res.body.reply).toContain(excerpt);
    expect(res.body.usedPassages[0]).toEqual({
      documentId: documentIds[document],
      passageId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });

  it('quotes two documents when the question asks about both', async () => {
    const res = await reply('How do I reset my password, and is shipping free?').expect(200);
    expect(res.body.reply).toContain('Reset your password');
    expect(res.body.reply).toContain('Shipping is free');
    expect(res.body.usedPassages.map((p: { documentId: string }) => p.documentId).sort()).toEqual(
      [documentIds.account, documentIds.shipping].sort(),
    );
  });

  it('answers with the fallback message when nothing matches', async () => {
    for (const question of ['What is the weather on Mars?', 'hello?', 'How are you?']) {
      const res = await reply(question).expect(200);
      expect(res.body).toEqual({ reply: FALLBACK, usedPassages: [] });
    }
  });

  it("the SMS reply job's read of a chatbot (one prepared statement) is the dashboard's, scoped alike", async () => {
    const chatbots = t.running.app.get(ChatbotsService);
    const forReply = await chatbots.getForReply(organizationId, chatbotId);
    const { organization: _relation, ...entity } = await chatbots.get(organizationId, chatbotId);
    expect({ ...forReply }).toEqual({ ...entity });
    expect(forReply).toMatchObject({ fallbackMessage: FALLBACK, language: 'english' });
    const other = await t.createOrganization();
    await expect(chatbots.getForReply(other.organizationId, chatbotId)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('answers the same question the same way every time', async () => {
    const first = (await reply('what about returns and delivery?').expect(200)).body;
    for (let i = 0; i < 3; i += 1) {
      expect((await reply('what about returns and delivery?').expect(200)).body).toEqual(first);
    }
  });

  it('previews the SMS text with format "plain": no markdown', async () => {
    const markdown = (await reply('opening hours').expect(200)).body.reply;
    expect(markdown).toContain('## Opening hours');
    const plain = (await reply('opening hours', { format: 'plain' }).expect(200)).body.reply;
    expect(plain.startsWith('Opening hours\n')).toBe(true);
    expect(plain).not.toContain('#');
  });

  it('stops answering from a deleted document', async () => {
    const bot = (
      await api.post('/api/chatbots').send({ name: 'Temp', fallbackMessage: FALLBACK }).expect(201)
    ).body;
    const doc = (
      await api
        .post(`/api/chatbots/${bot.id}/knowledge`)
        .send({ title: 'Pets', content: 'Dogs are welcome in our shop.' })
        .expect(201)
    ).body;
    expect((await reply('are dogs welcome?', {}, bot.id).expect(200)).body.reply).toBe(
      'Dogs are welcome in our shop.',
    );
    await api.delete(`/api/chatbots/${bot.id}/knowledge/${doc.id}`).expect(204);
    expect((await reply('are dogs welcome?', {}, bot.id).expect(200)).body.reply).toBe(FALLBACK);
  });

  it('is the same AgentService other modules call, with plain output capped to maxChars', async () => {
    const chatbot = await t.running.app.get(ChatbotsService).get(organizationId, chatbotId);
    const result = await t.running.app.get(AgentService).reply({
      chatbot,
      conversationHistory: [{ author: 'customer', text: 'hi' }],
      message: 'how do I reset my password',
      format: 'plain',
      maxChars: 30,
    });
    expect(result.text.length).toBeLessThanOrEqual(30);
    expect(result.text.startsWith('Reset your password')).toBe(true);
    expect(result.usedPassages[0].documentId).toBe(documentIds.account);
  });

  describe('validation and tenancy', () => {
    it.each([
      ['a missing message', {}, 'message'],
      ['a blank message', { message: '   ' }, 'message'],
      ['a message over 2,000 characters', { message: 'x'.repeat(2_001) }, 'message'],
      ['an unknown format', { message: 'hi', format: 'html' }, 'format'],
      [
        'a malformed history turn',
        { message: 'hi', history: [{ author: 'robot', text: 'x' }] },
        'history.0.author',
      ],
      ['an unknown field', { message: 'hi', chatbotId: randomUUID() }, 'chatbotId'],
    ])('refuses %s with 400 VALIDATION_FAILED', async (_case, body, field) => {
      const res = await api.post(`/api/chatbots/${chatbotId}/agent/reply`).send(body).expect(400);
      expectError(res.body, 400, 'VALIDATION_FAILED');
      expect(res.body.details).toEqual(
        expect.arrayContaining([expect.objectContaining({ field })]),
      );
    });

    it('accepts a message of exactly 2,000 characters', async () => {
      await reply('password '.repeat(250).slice(0, 2_000)).expect(200);
    });

    it("answers 404 for another organization's chatbot, an unknown id; 400 for a non-UUID", async () => {
      const other = authed(t.http, (await t.createOrganization()).apiKey);
      expectError(
        (
          await other
            .post(`/api/chatbots/${chatbotId}/agent/reply`)
            .send({ message: 'password' })
            .expect(404)
        ).body,
        404,
        'NOT_FOUND',
      );
      expectError((await reply('password', {}, randomUUID()).expect(404)).body, 404, 'NOT_FOUND');
      expectError((await reply('password', {}, 'nope').expect(400)).body, 400, 'VALIDATION_FAILED');
    });
  });

  it('documents the agent and knowledge routes with their error responses', async () => {
    const doc = (await api.get('/api/docs-json').expect(200)).body;
    const replyOp = doc.paths['/api/chatbots/{chatbotId}/agent/reply'].post;
    expect(Object.keys(replyOp.responses).sort()).toEqual([
      '200',
      '400',
      '401',
      '404',
      '413',
      '415',
      '429',
      '502',
      '503',
    ]);
    expect(doc.paths['/api/chatbots/{chatbotId}/knowledge'].post.responses).toHaveProperty('201');
    expect(
      doc.paths['/api/chatbots/{chatbotId}/knowledge/{documentId}'].delete.responses,
    ).toHaveProperty('204');
    expect(doc.components.schemas.AgentReply.properties.message.example).toBeDefined();
  });
});
