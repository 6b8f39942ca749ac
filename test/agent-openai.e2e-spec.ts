import { AgentError } from '../src/modules/agent/agent.errors';
import { AgentService } from '../src/modules/agent/agent.service';
import type { Chatbot } from '../src/modules/agent/chatbot.entity';
import { ChatbotsService } from '../src/modules/agent/chatbots.service';
import { FakeOpenAiServer, startFakeOpenAiServer } from './support/fake-openai-server';
import { authed, expectError, startTestApp, TestApp } from './support/test-app';

const API_KEY = 'sk-test-fake-openai-key-7f3a9c';
const SYSTEM_PROMPT = 'You are the assistant of Acme Shop. Be brief.';
const FALLBACK = 'A person from our team will text you back.';
const TIMEOUT_MS = 1_000;

describe('agent (openai provider) against an OpenAI-compatible server', () => {
  let server: FakeOpenAiServer;
  let t: TestApp;
  let api: ReturnType<typeof authed>;
  let chatbot: Chatbot;
  let documentId: string;

  const agent = () => t.running.app.get(AgentService);
  const lastRequest = () => server.requests[server.requests.length - 1];
  const reply = (message: string, extra: object = {}) =>
    api.post(`/api/chatbots/${chatbot.id}/agent/reply`).send({ message, ...extra });

  beforeAll(async () => {
    server = await startFakeOpenAiServer();
    t = await startTestApp({
      AGENT_PROVIDER: 'openai',
      OPENAI_BASE_URL: server.url + '/v1',
      OPENAI_API_KEY: API_KEY,
      OPENAI_MODEL: 'acme-test-model',
      OPENAI_TIMEOUT_MS: String(TIMEOUT_MS),
    });
    const org = await t.createOrganization();
    api = authed(t.http, org.apiKey);
    const created = await api
      .post('/api/chatbots')
      .send({
        name: 'Acme',
        systemPrompt: SYSTEM_PROMPT,
        fallbackMessage: FALLBACK,
        language: 'english',
      })
      .expect(201);
    documentId = (
      await api
        .post(`/api/chatbots/${created.body.id}/knowledge`)
        .send({
          title: 'Account',
          content: 'Reset your password from the settings page. The link works for 30 minutes.',
        })
        .expect(201)
    ).body.id;
    await api
      .post(`/api/chatbots/${created.body.id}/knowledge`)
      .send({ title: 'Shipping', content: 'Delivery takes 2 to 4 business days.' })
      .expect(201);
    chatbot = await t.running.app.get(ChatbotsService).get(org.organizationId, created.body.id);
  });
  afterAll(async () => {
    await t?.close();
    await server?.close();
  });
  beforeEach(async () => {
    // The provider's gate is shared by every call: after a test's 5xx it stays closed a moment
    // (see reply-concurrency.e2e-spec.ts); each test here starts with it open.
    const closedFor = agent().pausedUntil() - Date.now();
    if (closedFor > 0) await new Promise((resolve) => setTimeout(resolve, closedFor));
    server.requests.length = 0;
    server.behave({ kind: 'answer', content: 'Open **Settings** and choose _Security_.' });
  });

  it('sends the system prompt, the retrieved passages and the message; returns the answer', async () => {
    const res = await reply('how do I reset my password').expect(200);
    expect(res.body).toEqual({
      reply: 'Open **Settings** and choose _Security_.',
      usedPassages: [{ documentId, passageId: expect.any(String) }],
    });
    expect(server.requests).toHaveLength(1);
    const request = lastRequest();
    expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request.body.model).toBe('acme-test-model');
    const [system, ...rest] = request.body.messages;
    expect(system.role).toBe('system');
    expect(system.content.startsWith(SYSTEM_PROMPT)).toBe(true);
    expect(system.content).toMatch(
      /<knowledge>\n<passage number="1" document="Account">\nReset your password from the settings page\. The link works for 30 minutes\.\n<\/passage>\n<\/knowledge>/,
    );
    // Only retrieved knowledge goes to the model, not the whole knowledge base.
    expect(system.content).not.toContain('Delivery takes');
    expect(rest).toEqual([{ role: 'user', content: 'how do I reset my password' }]);
  });

  it('asks for plain text within the limit for SMS, and strips markdown anyway', async () => {
    const res = await reply('how do I reset my password', { format: 'plain' }).expect(200);
    expect(res.body.reply).toBe('Open Settings and choose Security.');
    expect(lastRequest().body.messages[0].content).toMatch(/plain text only, without markdown/);
    expect(lastRequest().body.messages[0].content).toContain('under 1600 characters');
  });

  it('sends the recent conversation, bounded by turns and characters, as user/assistant turns', async () => {
    const history = [
      { author: 'customer' as const, text: 'x'.repeat(5_000) },
      ...Array.from({ length: 24 }, (_, i) => ({
        author: (['customer', 'bot', 'agent'] as const)[i % 3],
        text: `turn ${i}`,
      })),
    ];
    const result = await agent().reply({
      chatbot,
      conversationHistory: history,
      message: 'and how long is the link valid?',
      format: 'plain',
      maxChars: 320,
    });
    expect(result.text).toBe('Open Settings and choose Security.');
    const messages = lastRequest().body.messages;
    expect(messages[0].content).toContain('under 320 characters');
    const sent = messages.slice(1, -1);
    expect(sent).toHaveLength(20);
    // The 5,000-character turn and turns 0-3 are the oldest: dropped.
    expect(sent[0]).toEqual({ role: 'assistant', content: 'turn 4' }); // a bot turn
    expect(sent[19]).toEqual({ role: 'assistant', content: 'turn 23' }); // a human agent's turn
    expect(sent.slice(0, 3).map((m) => m.role)).toEqual(['assistant', 'assistant', 'user']);
    expect(messages.at(-1)).toEqual({ role: 'user', content: 'and how long is the link valid?' });

    server.requests.length = 0;
    await agent().reply({
      chatbot,
      conversationHistory: [
        { author: 'customer', text: 'a'.repeat(5_000) },
        { author: 'bot', text: 'b'.repeat(3_000) },
        { author: 'customer', text: 'c'.repeat(3_000) },
      ],
      message: 'password?',
    });
    const bounded = lastRequest().body.messages.slice(1, -1);
    expect(bounded.map((m) => m.content[0])).toEqual(['b', 'c']);
  });

  it('sends the fallback message when the model answers nothing', async () => {
    for (const content of ['', '   ', null]) {
      server.behave({ kind: 'answer', content });
      const res = await reply('how do I reset my password').expect(200);
      expect(res.body).toEqual({ reply: FALLBACK, usedPassages: [] });
    }
  });

  it('surfaces a 500 as a transient AgentError after one retry, and as 502 over HTTP', async () => {
    server.behave({ kind: 'error', status: 500 });
    const error = await agent()
      .reply({ chatbot, conversationHistory: [], message: 'password' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect(error).toMatchObject({ transient: true, status: 500, provider: 'openai' });
    expect(server.requests).toHaveLength(2);

    const res = await reply('password').expect(502);
    expectError(res.body, 502, 'AGENT_UNAVAILABLE');
    expect(JSON.stringify(res.body)).not.toContain('Fake error');
  });

  it('surfaces a rejected request (401) as a permanent AgentError without retrying', async () => {
    server.behave({ kind: 'error', status: 401, message: 'Incorrect API key provided' });
    const error = await agent()
      .reply({ chatbot, conversationHistory: [], message: 'password' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AgentError', transient: false, status: 401 });
    expect(server.requests).toHaveLength(1);
    expectError((await reply('password').expect(502)).body, 502, 'AGENT_UNAVAILABLE');
  });

  it('surfaces a response without choices as a transient AgentError', async () => {
    server.behave({ kind: 'no-choices' });
    await expect(
      agent().reply({ chatbot, conversationHistory: [], message: 'password' }),
    ).rejects.toMatchObject({ name: 'AgentError', transient: true });
  });

  it('times out a server that never answers: transient AgentError, then 502, in bounded time', async () => {
    server.behave({ kind: 'hang' });
    // Two attempts of OPENAI_TIMEOUT_MS plus the SDK's backoff, well under a webhook's patience.
    const bound = TIMEOUT_MS * 2 + 2_500;

    let started = Date.now();
    const error = await agent()
      .reply({ chatbot, conversationHistory: [], message: 'password' })
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(bound);
    expect(error).toBeInstanceOf(AgentError);
    expect(error).toMatchObject({ transient: true });

    started = Date.now();
    expectError((await reply('password').expect(502)).body, 502, 'AGENT_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(bound);
  });

  it('gives up on a response body that never ends', async () => {
    server.behave({ kind: 'stall-body' });
    // The SDK's timeout stops at the response headers; the provider's own deadline covers the rest.
    const started = Date.now();
    await expect(
      agent().reply({ chatbot, conversationHistory: [], message: 'password' }),
    ).rejects.toMatchObject({ name: 'AgentError', transient: true });
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS * 2 + 2_500);
  });

  it('answers a slow but timely server', async () => {
    server.behave({ kind: 'answer', content: 'Slow but fine.', delayMs: TIMEOUT_MS / 2 });
    expect((await reply('password').expect(200)).body.reply).toBe('Slow but fine.');
  });

  it('never logs the OpenAI API key', () => {
    expect(t.logs.join('')).not.toContain(API_KEY);
  });
});
