/**
 * The harness of the hostile-input specs (test/hostile-input.*.e2e-spec.ts): every endpoint of the
 * real app, fed random and malformed bodies, wrong content types, oversized and deeply nested
 * bodies, Unicode edge cases, wrong types, junk path ids, query values and headers. Properties:
 *
 * - never a 5xx;
 * - every 4xx is the contract's error shape `{statusCode, code, message, details?}`;
 * - a rejected request leaves the organization's rows exactly as they were (no half-written row);
 * - a validly signed Twilio webhook with hostile values is stored (200) or refused (4xx).
 *
 * fast-check is seeded (42) so a failure replays the same way in CI; it prints the shrunk
 * counterexample. Reply workers are off (REPLY_WORKER_CONCURRENCY=0) so nothing changes rows in
 * the background between the before/after snapshots. HOSTILE_INPUT_TIMING=1 prints where the time
 * went. Each spec file calls useHostileInputApp() once: its own app, organizations and fixture
 * (`ctx` and `fx` are set by its hooks).
 */
import fc from 'fast-check';
import http from 'node:http';
import { DataSource } from 'typeorm';
import {
  connectChannel,
  ConnectedChannel,
  createChatbot,
  randomMessageSid,
  randomNumber,
  signedPost,
  SmsTestContext,
  startSmsTestApp,
} from './sms-fixtures';

const SEED = 42;
fc.configureGlobal({ seed: SEED, numRuns: 30 });

export const JSON_LIMIT_BYTES = 100 * 1024;
export const FORM_LIMIT_BYTES = 64 * 1024;
export const WEBHOOK_PATH = '/api/webhooks/twilio/sms';
export const STATUS_PATH = '/api/webhooks/twilio/sms/status';

// ---------------------------------------------------------------------------------------------
// Raw HTTP: exact bytes, exact headers (no client-side defaults), the response as text.

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string | undefined>;
  body?: Buffer | string;
}

export interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
let baseUrl: URL;

/** Rows may change: the next expectHandled() takes a fresh "before" snapshot. */
export function send(request: RawRequest): Promise<RawResponse> {
  lastSnapshot = undefined;
  return rawSend(request);
}

function rawSend(request: RawRequest): Promise<RawResponse> {
  const body =
    request.body === undefined
      ? undefined
      : Buffer.isBuffer(request.body)
        ? request.body
        : Buffer.from(request.body, 'utf8');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {}))
    if (value !== undefined) headers[name] = value;
  if (body) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(
      {
        host: baseUrl.hostname,
        port: baseUrl.port,
        method: request.method,
        path: request.path,
        headers,
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          answered = true;
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    // The server may answer 413 before reading the whole body and close the socket.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    req.end(body);
  });
}

export const describeExchange = (request: RawRequest, response: RawResponse): string => {
  const body =
    request.body === undefined
      ? ''
      : Buffer.isBuffer(request.body)
        ? `<${request.body.length} bytes> ${JSON.stringify(request.body.subarray(0, 160).toString('latin1'))}`
        : JSON.stringify(request.body.slice(0, 160));
  const headers = JSON.stringify(
    Object.fromEntries(
      Object.entries(request.headers ?? {}).map(([name, value]) => [
        name,
        name === 'authorization' ? `${String(value).slice(0, 12)}…` : value,
      ]),
    ),
  );
  return `${request.method} ${request.path.slice(0, 200)} ${headers} ${body}\n  → ${response.status} ${response.contentType} ${response.text.slice(0, 400)}`;
};

// ---------------------------------------------------------------------------------------------
// The contract's error shape.

/** Problems with a response under the hostile-input properties; empty when it is fine. */
export function contractProblems(
  response: RawResponse,
  options: { jsonContentType?: boolean } = {},
): string[] {
  const problems: string[] = [];
  if (response.status >= 500) problems.push(`a ${response.status} (never a 5xx)`);
  if (response.status < 400) return problems;
  if (options.jsonContentType !== false && !/^application\/json\b/.test(response.contentType))
    problems.push(`an error served as "${response.contentType}", not application/json`);
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    problems.push('an error body that is not JSON');
    return problems;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    problems.push('an error body that is not an object');
    return problems;
  }
  const { statusCode, code, message, details, ...rest } = body as Record<string, unknown>;
  if (statusCode !== response.status)
    problems.push(`statusCode ${String(statusCode)} ≠ HTTP ${response.status}`);
  if (typeof code !== 'string' || !code) problems.push('code is not a non-empty string');
  if (typeof message !== 'string') problems.push('message is not a string');
  if (details !== undefined) {
    const ok =
      Array.isArray(details) &&
      details.every(
        (detail: unknown) =>
          !!detail &&
          typeof detail === 'object' &&
          Object.keys(detail).sort().join() === 'field,message' &&
          typeof (detail as { field: unknown }).field === 'string' &&
          typeof (detail as { message: unknown }).message === 'string',
      );
    if (!ok) problems.push('details is not an array of {field, message}');
  }
  if (Object.keys(rest).length)
    problems.push(`extra keys in the error body: ${Object.keys(rest).join(', ')}`);
  return problems;
}

export const errorBody = (response: RawResponse) =>
  JSON.parse(response.text) as {
    statusCode: number;
    code: string;
    message: string;
    details?: { field: string; message: string }[];
  };

// ---------------------------------------------------------------------------------------------
// Fixture: one organization whose rows the properties watch, and a second one for tenancy.

export interface Fixture {
  apiKey: string;
  organizationId: string;
  channel: ConnectedChannel;
  /** Connected to the SMS channel. */
  chatbotId: string;
  /** Never connected: DELETE …/channels/sms on it answers 404 whatever the body. */
  spareChatbotId: string;
  documentId: string;
  conversationId: string;
  other: {
    apiKey: string;
    organizationId: string;
    chatbotId: string;
    documentId: string;
    conversationId: string;
  };
}

export let ctx: SmsTestContext;
export let fx: Fixture;
/**
 * The snapshot after the last expectHandled(): with the reply workers off and tests running one
 * at a time, it is the next request's "before" unless something else wrote meanwhile (send(),
 * a new test: both reset it).
 */
let lastSnapshot: Record<string, string> | undefined;
const timing = { snapshots: 0, snapshotMs: 0, requests: 0, requestMs: 0 };

/** Every row of both organizations, as counts and digests, in one round trip. */
async function snapshots(): Promise<Record<string, string>> {
  const table = (name: string, alias: string, where: string) =>
    `(SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM ${name} t WHERE ${where}) AS ${alias}`;
  const columns = (org: '$1' | '$2', label: string) => [
    table('chatbots', `${label}_chatbots`, `t.organization_id = ${org}`),
    table('knowledge_documents', `${label}_knowledge_documents`, `t.organization_id = ${org}`),
    table(
      'knowledge_passages',
      `${label}_knowledge_passages`,
      `t.chatbot_id IN (SELECT id FROM chatbots WHERE organization_id = ${org})`,
    ),
    table('sms_channels', `${label}_sms_channels`, `t.organization_id = ${org}`),
    table('conversations', `${label}_conversations`, `t.organization_id = ${org}`),
    table('messages', `${label}_messages`, `t.organization_id = ${org}`),
  ];
  const started = Date.now();
  const [row] = await ctx.t.running.app
    .get(DataSource)
    .query(`SELECT ${[...columns('$1', 'main'), ...columns('$2', 'other')].join(', ')}`, [
      fx.organizationId,
      fx.other.organizationId,
    ]);
  timing.snapshots += 1;
  timing.snapshotMs += Date.now() - started;
  return row as Record<string, string>;
}

async function inboundConversation(channel: ConnectedChannel): Promise<string> {
  const from = randomNumber();
  await signedPost(
    ctx,
    WEBHOOK_PATH,
    {
      MessageSid: randomMessageSid(),
      AccountSid: channel.accountSid,
      From: from,
      To: channel.phoneNumber,
      Body: 'Hello, when are you open?',
      NumMedia: '0',
    },
    channel.authToken,
  ).expect(200);
  const [{ id }] = await ctx.t.running.app
    .get(DataSource)
    .query('SELECT id FROM conversations WHERE organization_id = $1 AND customer_number = $2', [
      channel.organizationId,
      from,
    ]);
  return id as string;
}

async function addDocument(apiKey: string, chatbotId: string): Promise<string> {
  const response = await send({
    method: 'POST',
    path: `/api/chatbots/${chatbotId}/knowledge`,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Hours', content: 'We are open Monday to Friday from 9 to 17.' }),
  });
  expect(response.status).toBe(201);
  return (JSON.parse(response.text) as { id: string }).id;
}

// ---------------------------------------------------------------------------------------------
// Every endpoint.

export type FieldType = 'string' | 'optional-string' | 'boolean' | 'enum' | 'history';

export interface Endpoint {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** With :chatbotId, :documentId, :conversationId placeholders. */
  template: string;
  access: 'public' | 'api' | 'webhook';
  /** The body DTO, for the wrong-type and string properties. */
  fields?: Record<string, FieldType>;
  /** A body that passes validation. */
  valid?: () => Record<string, unknown>;
}

export const ENDPOINTS: Endpoint[] = [
  { name: 'health', method: 'GET', template: '/api/health', access: 'public' },
  {
    name: 'create chatbot',
    method: 'POST',
    template: '/api/chatbots',
    access: 'api',
    fields: {
      name: 'string',
      systemPrompt: 'string',
      fallbackMessage: 'string',
      mediaOnlyReply: 'string',
      language: 'enum',
    },
    valid: () => ({ name: 'Fuzz bot' }),
  },
  { name: 'list chatbots', method: 'GET', template: '/api/chatbots', access: 'api' },
  { name: 'get chatbot', method: 'GET', template: '/api/chatbots/:chatbotId', access: 'api' },
  {
    name: 'update chatbot',
    method: 'PATCH',
    template: '/api/chatbots/:chatbotId',
    access: 'api',
    fields: {
      name: 'string',
      systemPrompt: 'string',
      fallbackMessage: 'string',
      mediaOnlyReply: 'string',
      language: 'enum',
    },
    valid: () => ({ systemPrompt: 'Answer briefly.' }),
  },
  {
    name: 'add knowledge',
    method: 'POST',
    template: '/api/chatbots/:chatbotId/knowledge',
    access: 'api',
    fields: { title: 'string', content: 'string' },
    valid: () => ({ title: 'Returns', content: 'Returns are free within 30 days.' }),
  },
  {
    name: 'list knowledge',
    method: 'GET',
    template: '/api/chatbots/:chatbotId/knowledge',
    access: 'api',
  },
  {
    name: 'delete knowledge',
    method: 'DELETE',
    template: '/api/chatbots/:chatbotId/knowledge/:documentId',
    access: 'api',
  },
  {
    name: 'agent reply',
    method: 'POST',
    template: '/api/chatbots/:chatbotId/agent/reply',
    access: 'api',
    fields: { message: 'string', history: 'history', format: 'enum' },
    valid: () => ({ message: 'When are you open?' }),
  },
  {
    name: 'connect sms',
    method: 'PUT',
    template: '/api/chatbots/:chatbotId/channels/sms',
    access: 'api',
    fields: {
      accountSid: 'string',
      authToken: 'string',
      phoneNumber: 'string',
      friendlyName: 'optional-string',
      messagingServiceSid: 'optional-string',
      configureWebhook: 'boolean',
    },
    valid: () => ({
      accountSid: fx.channel.accountSid,
      authToken: fx.channel.authToken,
      phoneNumber: fx.channel.phoneNumber,
    }),
  },
  {
    name: 'sms status',
    method: 'GET',
    template: '/api/chatbots/:chatbotId/channels/sms',
    access: 'api',
  },
  {
    name: 'repair sms webhook',
    method: 'POST',
    template: '/api/chatbots/:chatbotId/channels/sms/webhook',
    access: 'api',
  },
  {
    name: 'rotate sms auth token',
    method: 'POST',
    template: '/api/chatbots/:chatbotId/channels/sms/auth-token',
    access: 'api',
    fields: { authToken: 'string' },
    // Well formed, but not a token of the account: probed, refused, nothing stored.
    valid: () => ({ authToken: 'f'.repeat(32) }),
  },
  {
    name: 'cancel sms auth token',
    method: 'DELETE',
    template: '/api/chatbots/:chatbotId/channels/sms/auth-token',
    access: 'api',
  },
  {
    name: 'disconnect sms',
    method: 'DELETE',
    template: '/api/chatbots/:chatbotId/channels/sms',
    access: 'api',
  },
  {
    name: 'list conversations',
    method: 'GET',
    template: '/api/chatbots/:chatbotId/conversations',
    access: 'api',
  },
  {
    name: 'get conversation',
    method: 'GET',
    template: '/api/conversations/:conversationId',
    access: 'api',
  },
  {
    name: 'list messages',
    method: 'GET',
    template: '/api/conversations/:conversationId/messages',
    access: 'api',
  },
  {
    name: 'escalate',
    method: 'POST',
    template: '/api/conversations/:conversationId/escalate',
    access: 'api',
  },
  {
    name: 'release',
    method: 'POST',
    template: '/api/conversations/:conversationId/release',
    access: 'api',
  },
  {
    name: 'agent message',
    method: 'POST',
    template: '/api/conversations/:conversationId/messages',
    access: 'api',
    fields: { body: 'string' },
    valid: () => ({ body: 'Hi, this is Anna from support.' }),
  },
  { name: 'inbound webhook', method: 'POST', template: WEBHOOK_PATH, access: 'webhook' },
  { name: 'status webhook', method: 'POST', template: STATUS_PATH, access: 'webhook' },
  { name: 'unknown route', method: 'POST', template: '/api/no-such-thing', access: 'public' },
];

export const WITH_BODY = ENDPOINTS.filter((endpoint) => endpoint.fields);
export const WITH_IDS = ENDPOINTS.filter((endpoint) => endpoint.template.includes('/:'));
export const API_ENDPOINTS = ENDPOINTS.filter((endpoint) => endpoint.access === 'api');

/** Placeholders filled with the fixture's ids (the spare chatbot for disconnect, see Fixture). */
export function pathFor(endpoint: Endpoint, overrides: Record<string, string> = {}): string {
  const ids: Record<string, string> = {
    chatbotId: endpoint.name === 'disconnect sms' ? fx.spareChatbotId : fx.chatbotId,
    // A document that does not exist: a hostile body must not be able to delete the real one.
    documentId: '7d0c1f0e-6a43-4a8e-9a0e-3f1a2b4c5d6e',
    conversationId: fx.conversationId,
    ...overrides,
  };
  return endpoint.template.replace(/:(\w+)/g, (_match, name: string) => ids[name]);
}

export function authFor(endpoint: Endpoint): Record<string, string> {
  return endpoint.access === 'api' ? { authorization: `Bearer ${fx.apiKey}` } : {};
}

/**
 * Sends a hostile request and checks the properties: no 5xx, the contract's shape on every 4xx,
 * and no row of either organization changed when the request was refused.
 */
export async function expectHandled(
  request: RawRequest,
  options: { jsonContentType?: boolean; unchangedOnSuccess?: boolean } = {},
): Promise<RawResponse> {
  const before = lastSnapshot ?? (await snapshots());
  const started = Date.now();
  const response = await rawSend(request);
  timing.requests += 1;
  timing.requestMs += Date.now() - started;
  const after = await snapshots();
  lastSnapshot = after;
  const problems = contractProblems(response, options);
  if (response.status >= 400 || options.unchangedOnSuccess) {
    for (const [table, value] of Object.entries(before))
      if (after[table] !== value)
        problems.push(
          `${table.replace('_', ' organization: ')} changed by ${response.status < 400 ? 'a request that must change nothing' : 'a refused request'} (${value} → ${after[table]})`,
        );
  }
  if (problems.length)
    throw new Error(`${problems.join('; ')}\n  ${describeExchange(request, response)}`);
  return response;
}

export const jsonHeaders = (endpoint: Endpoint) => ({
  ...authFor(endpoint),
  'content-type': 'application/json',
});

/** Boots the app and the fixture for one spec file; `area` names it in the timing line. */
export function useHostileInputApp(area: string): void {
  const startedAt = Date.now();

  let bootMs = 0;

  beforeAll(async () => {
    const booting = Date.now();
    ctx = await startSmsTestApp({
      API_RATE_LIMIT_PER_MINUTE: '100000',
      // Fuzzing fails authentication from one address on purpose, far more than a client would.
      WEBHOOK_FAILURES_PER_MINUTE: '100000',
      API_KEY_FAILURES_PER_MINUTE: '100000',
      REPLY_WORKER_CONCURRENCY: '0',
    });
    bootMs = Date.now() - booting;
    baseUrl = new URL(ctx.t.baseUrl);
    const channel = await connectChannel(ctx, { configureWebhook: false });
    const other = await connectChannel(ctx, { configureWebhook: false });
    fx = {
      apiKey: channel.apiKey,
      organizationId: channel.organizationId,
      channel,
      chatbotId: channel.chatbotId,
      spareChatbotId: await createChatbot(ctx, channel.apiKey, 'Spare'),
      documentId: await addDocument(channel.apiKey, channel.chatbotId),
      conversationId: await inboundConversation(channel),
      other: {
        apiKey: other.apiKey,
        organizationId: other.organizationId,
        chatbotId: other.chatbotId,
        documentId: await addDocument(other.apiKey, other.chatbotId),
        conversationId: await inboundConversation(other),
      },
    };
  });

  beforeEach(() => {
    lastSnapshot = undefined;
  });

  afterAll(async () => {
    agent.destroy();
    await ctx?.close();
    if (process.env.HOSTILE_INPUT_TIMING)
      console.log(
        `hostile-input (${area}): ${Date.now() - startedAt} ms in all (boot ${bootMs} ms); ` +
          `${timing.requests} requests, ${Math.round(timing.requestMs / timing.requests)} ms each; ` +
          `${timing.snapshots} snapshots, ${Math.round(timing.snapshotMs / timing.snapshots)} ms each`,
      );
  });
}
