/**
 * Hostile input, property-based (issue #6 item 5): every endpoint of the real app, fed random and
 * malformed bodies, wrong content types, oversized and deeply nested bodies, Unicode edge cases,
 * wrong types, junk path ids, query values and headers. Properties:
 *
 * - never a 5xx;
 * - every 4xx is the contract's error shape `{statusCode, code, message, details?}`;
 * - a rejected request leaves the organization's rows exactly as they were (no half-written row);
 * - a validly signed Twilio webhook with hostile values is stored (200) or refused (4xx).
 *
 * fast-check is seeded (42) so a failure replays the same way in CI; it prints the shrunk
 * counterexample. Reply workers are off (REPLY_WORKER_CONCURRENCY=0) so nothing changes rows in
 * the background between the before/after snapshots. Tests marked "FAILS until the fix" expose a
 * bug in src/ (the comment names the cause). HOSTILE_INPUT_TIMING=1 prints where the time went.
 */
import fc from 'fast-check';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import twilio from 'twilio';
import { DataSource } from 'typeorm';
import {
  asStoredByPostgres,
  decodeFormBody,
  formBody,
  hostileCursor,
  hostileJsonValue,
  hostileKey,
  hostileLimit,
  jsonObjectText,
  malformedJsonText,
  malformedPathId,
  nastyString,
  nonBooleanValue,
  nonStringValue,
  percentEncodeBytes,
  rawBodyBytes,
  stringWithNul,
  unknownUuid,
} from './support/fuzz-arbitraries';
import {
  connectChannel,
  ConnectedChannel,
  createChatbot,
  randomMessageSid,
  randomNumber,
  signedPost,
  SmsTestContext,
  startSmsTestApp,
} from './support/sms-fixtures';
import { TEST_PUBLIC_BASE_URL } from './support/test-app';

const SEED = 42;
fc.configureGlobal({ seed: SEED, numRuns: 30 });

const JSON_LIMIT_BYTES = 100 * 1024;
const FORM_LIMIT_BYTES = 64 * 1024;
const WEBHOOK_PATH = '/api/webhooks/twilio/sms';
const STATUS_PATH = '/api/webhooks/twilio/sms/status';

// ---------------------------------------------------------------------------------------------
// Raw HTTP: exact bytes, exact headers (no client-side defaults), the response as text.

interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string | undefined>;
  body?: Buffer | string;
}

interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
let baseUrl: URL;

/** Rows may change: the next expectHandled() takes a fresh "before" snapshot. */
function send(request: RawRequest): Promise<RawResponse> {
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

const describeExchange = (request: RawRequest, response: RawResponse): string => {
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
function contractProblems(
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

const errorBody = (response: RawResponse) =>
  JSON.parse(response.text) as {
    statusCode: number;
    code: string;
    message: string;
    details?: { field: string; message: string }[];
  };

// ---------------------------------------------------------------------------------------------
// Fixture: one organization whose rows the properties watch, and a second one for tenancy.

interface Fixture {
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

let ctx: SmsTestContext;
let fx: Fixture;
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

type FieldType = 'string' | 'optional-string' | 'boolean' | 'enum' | 'history';

interface Endpoint {
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

const ENDPOINTS: Endpoint[] = [
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

const WITH_BODY = ENDPOINTS.filter((endpoint) => endpoint.fields);
const WITH_IDS = ENDPOINTS.filter((endpoint) => endpoint.template.includes('/:'));
const API_ENDPOINTS = ENDPOINTS.filter((endpoint) => endpoint.access === 'api');

/** Placeholders filled with the fixture's ids (the spare chatbot for disconnect, see Fixture). */
function pathFor(endpoint: Endpoint, overrides: Record<string, string> = {}): string {
  const ids: Record<string, string> = {
    chatbotId: endpoint.name === 'disconnect sms' ? fx.spareChatbotId : fx.chatbotId,
    // A document that does not exist: a hostile body must not be able to delete the real one.
    documentId: '7d0c1f0e-6a43-4a8e-9a0e-3f1a2b4c5d6e',
    conversationId: fx.conversationId,
    ...overrides,
  };
  return endpoint.template.replace(/:(\w+)/g, (_match, name: string) => ids[name]);
}

function authFor(endpoint: Endpoint): Record<string, string> {
  return endpoint.access === 'api' ? { authorization: `Bearer ${fx.apiKey}` } : {};
}

/**
 * Sends a hostile request and checks the properties: no 5xx, the contract's shape on every 4xx,
 * and no row of either organization changed when the request was refused.
 */
async function expectHandled(
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

const jsonHeaders = (endpoint: Endpoint) => ({
  ...authFor(endpoint),
  'content-type': 'application/json',
});

// ---------------------------------------------------------------------------------------------

describe('hostile input (property-based, seeded)', () => {
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
        `hostile-input: ${Date.now() - startedAt} ms in all (boot ${bootMs} ms); ` +
          `${timing.requests} requests, ${Math.round(timing.requestMs / timing.requests)} ms each; ` +
          `${timing.snapshots} snapshots, ${Math.round(timing.snapshotMs / timing.snapshots)} ms each`,
      );
  });

  describe('bodies', () => {
    it('hostile JSON objects on every endpoint: never 5xx, contract-shaped 4xx, nothing half-written', async () => {
      const body = (endpoint: Endpoint) =>
        fc
          .tuple(
            fc.subarray(Object.keys(endpoint.fields ?? {})),
            fc.array(fc.tuple(hostileKey, hostileJsonValue), { maxLength: 3 }),
            fc.array(hostileJsonValue, { minLength: 8, maxLength: 8 }),
          )
          .map(([fields, extra, values]) =>
            jsonObjectText([
              ...fields.map((field, i): [string, unknown] => [field, values[i]]),
              ...extra,
            ]),
          );
      await fc.assert(
        fc.asyncProperty(
          fc
            .constantFrom(...ENDPOINTS)
            .chain((endpoint) => fc.tuple(fc.constant(endpoint), body(endpoint))),
          async ([endpoint, text]) => {
            await expectHandled({
              method: endpoint.method,
              path: pathFor(endpoint),
              headers: jsonHeaders(endpoint),
              body: text,
            });
          },
        ),
        { numRuns: 40 },
      );
    });

    it('malformed JSON on every endpoint answers a contract-shaped 400', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...ENDPOINTS),
          malformedJsonText,
          async (endpoint, text) => {
            const response = await expectHandled({
              method: endpoint.method,
              path: pathFor(endpoint),
              headers: jsonHeaders(endpoint),
              body: text,
            });
            if (text.trim() !== '' && response.status !== 400)
              throw new Error(
                `malformed JSON answered ${response.status}, not 400: ${response.text}`,
              );
          },
        ),
        { numRuns: 30 },
      );
    });

    it('wrong content types and raw bytes on every endpoint: never 5xx, contract-shaped 4xx', async () => {
      const contentType = fc.constantFrom(
        undefined,
        'text/plain',
        'text/plain; charset=utf-8',
        'application/xml',
        'text/xml',
        'text/html',
        'multipart/form-data; boundary=----fuzz',
        'multipart/form-data',
        'application/octet-stream',
        'application/json',
        'application/json; charset=utf-8',
        'application/json; charset=utf-16',
        'application/json; charset=latin1',
        'application/json; charset=nope',
        'application/json; charset=',
        'application/merge-patch+json',
        'application/x-www-form-urlencoded',
        'application/x-www-form-urlencoded; charset=iso-8859-1',
        'application/x-www-form-urlencoded; charset=nope',
        '*/*',
        'json',
        ';;;',
        'application/json, text/plain',
      );
      const multipart = Buffer.from(
        '------fuzz\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n------fuzz--\r\n',
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...ENDPOINTS),
          contentType,
          fc.oneof(rawBodyBytes, fc.constant(multipart)),
          async (endpoint, type, body) => {
            await expectHandled({
              method: endpoint.method,
              path: pathFor(endpoint),
              headers: { ...authFor(endpoint), 'content-type': type },
              body,
            });
          },
        ),
        { numRuns: 30 },
      );
    });

    it('a body with a broken or unknown Content-Encoding answers 4xx in the contract shape', async () => {
      // FAILS until the fix: body-parser's inflate error has no `type`, so bodyErrorMiddleware
      // passes it on and the filter turns it into a 500 INTERNAL_ERROR.
      const failures: string[] = [];
      for (const endpoint of ENDPOINTS)
        for (const [encoding, type] of [
          ['gzip', 'application/json'],
          ['deflate', 'application/json'],
          ['br', 'application/json'],
          ['gzip', 'application/x-www-form-urlencoded'],
          ['x-unknown', 'application/json'],
        ]) {
          const request = {
            method: endpoint.method,
            path: pathFor(endpoint),
            headers: { ...authFor(endpoint), 'content-type': type, 'content-encoding': encoding },
            body: Buffer.from('this is not compressed'),
          };
          const response = await send(request);
          const problems = contractProblems(response);
          if (problems.length)
            failures.push(`${problems.join('; ')}: ${describeExchange(request, response)}`);
        }
      expect(failures).toEqual([]);
    });
  });

  describe('sizes and nesting', () => {
    const paddedJson = (bytes: number): string => {
      const frame = '{"name":""}';
      return `{"name":"${'a'.repeat(bytes - frame.length)}"}`;
    };

    it('a JSON body just over 100 kB answers 413 PAYLOAD_TOO_LARGE on every endpoint; exactly 100 kB does not', async () => {
      for (const endpoint of ENDPOINTS) {
        const over = await expectHandled({
          method: endpoint.method,
          path: pathFor(endpoint),
          headers: jsonHeaders(endpoint),
          body: paddedJson(JSON_LIMIT_BYTES + 1),
        });
        expect({ endpoint: endpoint.name, status: over.status }).toEqual({
          endpoint: endpoint.name,
          status: 413,
        });
        expect(errorBody(over).code).toBe('PAYLOAD_TOO_LARGE');
        if (!['create chatbot', 'agent reply', 'inbound webhook'].includes(endpoint.name)) continue;
        const at = await expectHandled({
          method: endpoint.method,
          path: pathFor(endpoint),
          headers: jsonHeaders(endpoint),
          body: paddedJson(JSON_LIMIT_BYTES),
        });
        expect({ endpoint: endpoint.name, status: at.status }).not.toEqual({
          endpoint: endpoint.name,
          status: 413,
        });
      }
    });

    it('a form body just over 64 kB answers 413 on every endpoint, signed or not', async () => {
      for (const endpoint of ENDPOINTS) {
        const params: Record<string, string> = {
          MessageSid: randomMessageSid(),
          AccountSid: fx.channel.accountSid,
          From: randomNumber(),
          To: fx.channel.phoneNumber,
        };
        const frame = formBody([...Object.entries(params), ['Body', '']]);
        params.Body = 'a'.repeat(FORM_LIMIT_BYTES + 1 - frame.length);
        const body = formBody(Object.entries(params));
        expect(Buffer.byteLength(body)).toBe(FORM_LIMIT_BYTES + 1);
        const response = await expectHandled({
          method: endpoint.method,
          path: pathFor(endpoint),
          headers: {
            ...authFor(endpoint),
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': twilio.getExpectedTwilioSignature(
              fx.channel.authToken,
              `${TEST_PUBLIC_BASE_URL}${pathFor(endpoint)}`,
              params,
            ),
          },
          body,
        });
        expect({ endpoint: endpoint.name, status: response.status }).toEqual({
          endpoint: endpoint.name,
          status: 413,
        });
      }
    });

    const DEPTH = 10_000;
    const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

    it('10,000 levels of nesting (within the size limit) on every endpoint: a 4xx, never a 5xx', async () => {
      // FAILS until the fix: class-transformer recurses once per level and overflows the stack
      // (RangeError → 500) on every endpoint with a @Body() DTO.
      const failures: string[] = [];
      for (const endpoint of ENDPOINTS) {
        const field = Object.keys(endpoint.fields ?? {})[0];
        // The parser runs for every route; a DTO's transform only where there is a @Body().
        const bodies = field
          ? [
              deepArray(DEPTH),
              `{"${field}":${deepArray(DEPTH)}}`,
              `{"unexpected":${deepObject(DEPTH)}}`,
            ]
          : [deepArray(DEPTH)];
        for (const body of bodies) {
          expect(Buffer.byteLength(body)).toBeLessThanOrEqual(JSON_LIMIT_BYTES);
          const request = {
            method: endpoint.method,
            path: pathFor(endpoint),
            headers: jsonHeaders(endpoint),
            body,
          };
          try {
            await expectHandled(request);
          } catch (error) {
            failures.push(
              `${endpoint.name}: ${(error as Error).message.split('\n')[0]} (${body.slice(0, 30)}…)`,
            );
          }
        }
      }
      expect(failures).toEqual([]);
    });

    it('random nesting depths and shapes: never a 5xx', async () => {
      // FAILS until the fix (same cause as above, for depths over ~1,500).
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...WITH_BODY),
          fc.integer({ min: 1, max: DEPTH }),
          fc.constantFrom('array', 'object', 'mixed'),
          fc.constantFrom('top', 'field', 'unexpected', 'history-item'),
          async (endpoint, depth, shape, placement) => {
            const open = (i: number) =>
              shape === 'array' || (shape === 'mixed' && i % 2) ? '[' : '{"a":';
            const close = (i: number) =>
              shape === 'array' || (shape === 'mixed' && i % 2) ? ']' : '}';
            let deep = '';
            for (let i = 0; i < depth; i += 1) deep += open(i);
            deep += '0';
            for (let i = depth - 1; i >= 0; i -= 1) deep += close(i);
            if (Buffer.byteLength(deep) > JSON_LIMIT_BYTES - 100) return;
            const field = Object.keys(endpoint.fields ?? {})[0];
            const body =
              placement === 'top'
                ? deep
                : placement === 'field'
                  ? `{"${field}":${deep}}`
                  : placement === 'unexpected'
                    ? `{"unexpected":${deep}}`
                    : `{"message":"hi","history":[{"author":"customer","text":${deep}}]}`;
            await expectHandled({
              method: endpoint.method,
              path: pathFor(endpoint),
              headers: jsonHeaders(endpoint),
              body,
            });
          },
        ),
        { numRuns: 25 },
      );
    });

    it('deeply bracketed form keys and too many parameters: a 4xx, never a 5xx', async () => {
      for (const endpoint of ENDPOINTS) {
        for (const body of [
          `a${'[b]'.repeat(2_000)}=1&&&===&&&`,
          Array.from({ length: 500 }, (_, i) => `k${i}=v`).join('&'),
        ]) {
          await expectHandled({
            method: endpoint.method,
            path: pathFor(endpoint),
            headers: { ...authFor(endpoint), 'content-type': 'application/x-www-form-urlencoded' },
            body,
          });
        }
      }
    });
  });

  describe('field values', () => {
    const wrongValueFor = (type: FieldType) => {
      switch (type) {
        case 'string':
          return nonStringValue;
        case 'optional-string':
          return nonStringValue.filter((value) => value !== null);
        case 'boolean':
          return nonBooleanValue.filter((value) => value !== null); // @IsOptional(): null is allowed
        case 'enum':
          return fc.oneof(nonStringValue, nastyString({ withNul: false }));
        case 'history':
          return fc.oneof(
            nonStringValue.filter((value) => !Array.isArray(value) || value.length > 0),
            fc.array(
              fc.oneof(
                nonStringValue,
                fc.record({ author: nastyString({ withNul: false }), text: fc.constant('x') }),
              ),
              {
                minLength: 1,
                maxLength: 3,
              },
            ),
            fc.constant(Array.from({ length: 51 }, () => ({ author: 'customer', text: 'x' }))),
          );
      }
    };

    it('a wrong type in any one field answers 400 VALIDATION_FAILED naming that field; nothing is written', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc
            .constantFrom(...WITH_BODY)
            .chain((endpoint) =>
              fc
                .constantFrom(...Object.keys(endpoint.fields!))
                .chain((field) =>
                  fc.tuple(
                    fc.constant(endpoint),
                    fc.constant(field),
                    wrongValueFor(endpoint.fields![field]),
                  ),
                ),
            ),
          async ([endpoint, field, value]) => {
            const body = { ...endpoint.valid!(), [field]: value };
            const response = await expectHandled({
              method: endpoint.method,
              path: pathFor(endpoint),
              headers: jsonHeaders(endpoint),
              body: JSON.stringify(body),
            });
            const error = response.status === 400 ? errorBody(response) : null;
            const named = error?.details?.some(
              (detail) => detail.field === field || detail.field.startsWith(`${field}.`),
            );
            if (error?.code !== 'VALIDATION_FAILED' || !named)
              throw new Error(
                `expected 400 VALIDATION_FAILED naming ${field}, got ${response.status} ${response.text}`,
              );
          },
        ),
        { numRuns: 40 },
      );
    });

    it('the detail message for a wrong-typed string field says a string is expected', async () => {
      // FAILS until the fix: with stopAtFirstError the first constraint class-validator runs is the
      // decorator nearest the property (MaxLength / Matches), so `{"name": 42}` or a missing name
      // reads "name must be shorter than or equal to 200 characters".
      const failures: string[] = [];
      for (const endpoint of WITH_BODY)
        for (const [field, type] of Object.entries(endpoint.fields!)) {
          if (type !== 'string' && type !== 'optional-string') continue;
          const response = await send({
            method: endpoint.method,
            path: pathFor(endpoint),
            headers: jsonHeaders(endpoint),
            body: JSON.stringify({ ...endpoint.valid!(), [field]: 42 }),
          });
          const detail = errorBody(response).details?.find((d) => d.field === field);
          if (!detail || !/must be a string/.test(detail.message))
            failures.push(`${endpoint.name} ${field}: ${detail?.message ?? response.text}`);
        }
      expect(failures).toEqual([]);
    });

    it('SMS texts are limited in UTF-16 code units, as Twilio counts: 1,600 emoji answer 400 naming the field, 800 emoji and 1,600 GSM characters pass', async () => {
      // FAILS until the fix: class-validator's MaxLength counts a surrogate pair as one character,
      // so 1,600 emoji (3,200 code units) passed and Twilio then refused the send (21617).
      const cases: [string, string][] = [
        ['agent message', 'body'],
        ['update chatbot', 'fallbackMessage'],
        ['update chatbot', 'mediaOnlyReply'],
        ['create chatbot', 'fallbackMessage'],
      ];
      for (const [name, field] of cases) {
        const endpoint = ENDPOINTS.find((e) => e.name === name)!;
        const request = (value: string): RawRequest => ({
          method: endpoint.method,
          path: pathFor(endpoint),
          headers: jsonHeaders(endpoint),
          body: JSON.stringify({ ...endpoint.valid!(), [field]: value }),
        });
        const refused = await expectHandled(request('😀'.repeat(1600)));
        expect({ name, status: refused.status, error: errorBody(refused) }).toEqual({
          name,
          status: 400,
          error: expect.objectContaining({
            code: 'VALIDATION_FAILED',
            details: [expect.objectContaining({ field })],
          }),
        });
        for (const accepted of ['😀'.repeat(800), 'a'.repeat(1600)])
          expect({ name, field, status: (await send(request(accepted))).status }).toEqual({
            name,
            field,
            status: endpoint.method === 'POST' ? 201 : 200,
          });
      }
    });

    it('Unicode, SQL- and HTML-looking strings (no NUL) are stored as sent or refused; never a 5xx', async () => {
      const text = nastyString({ withNul: false, maxPieces: 8 });
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...WITH_BODY).chain((endpoint) =>
            fc.tuple(
              fc.constant(endpoint),
              fc.record(
                Object.fromEntries(
                  Object.entries(endpoint.fields!)
                    .filter(([, type]) => type === 'string' || type === 'optional-string')
                    .map(([field]) => [field, text]),
                ),
                { requiredKeys: [] },
              ),
            ),
          ),
          async ([endpoint, strings]) => {
            const body = { ...endpoint.valid!(), ...strings };
            const response = await expectHandled({
              method: endpoint.method,
              path: pathFor(endpoint),
              headers: jsonHeaders(endpoint),
              body: jsonObjectText(Object.entries(body)),
            });
            if (response.status >= 300) return;
            const created = JSON.parse(response.text) as { id?: string };
            // Read back what was stored: exactly what was sent, as UTF-8 can carry it.
            if (endpoint.name === 'create chatbot' || endpoint.name === 'update chatbot') {
              const stored = JSON.parse(
                (
                  await send({
                    method: 'GET',
                    path: `/api/chatbots/${created.id}`,
                    headers: authFor(endpoint),
                  })
                ).text,
              ) as Record<string, string>;
              for (const [field, value] of Object.entries(strings))
                expect({ field, value: stored[field] }).toEqual({
                  field,
                  value: asStoredByPostgres(value as string),
                });
            }
            if (endpoint.name === 'add knowledge') {
              const [row] = await ctx.t.running.app
                .get(DataSource)
                .query('SELECT title, content FROM knowledge_documents WHERE id = $1', [
                  created.id,
                ]);
              expect(row).toEqual({
                title: asStoredByPostgres(String(body.title).trim()),
                content: asStoredByPostgres(String(body.content)),
              });
            }
            if (endpoint.name === 'connect sms' && strings.friendlyName !== undefined) {
              const status = JSON.parse(
                (
                  await send({
                    method: 'GET',
                    path: pathFor(endpoint),
                    headers: authFor(endpoint),
                  })
                ).text,
              ) as { friendlyName: string };
              expect(status.friendlyName).toBe(asStoredByPostgres(strings.friendlyName as string));
            }
            if (endpoint.name === 'agent message') {
              const [row] = await ctx.t.running.app
                .get(DataSource)
                .query('SELECT body FROM messages WHERE id = $1', [created.id]);
              expect(row.body).toBe(asStoredByPostgres(String(body.body)));
            }
          },
        ),
        { numRuns: 40 },
      );
    });

    it.each(WITH_BODY.map((endpoint) => [endpoint.name, endpoint] as const))(
      'a NUL byte in a string field of %s is refused with 400 or stored without crashing',
      async (_name, endpoint) => {
        // FAILS until the fix: PostgreSQL text cannot hold U+0000 ("invalid byte sequence for
        // encoding UTF8: 0x00", 22021) and the error surfaces as a 500.
        const stringFields = Object.entries(endpoint.fields!)
          .filter(([, type]) => type === 'string' || type === 'optional-string')
          .map(([field]) => field);
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...stringFields),
            stringWithNul,
            async (field, value) => {
              const body = { ...endpoint.valid!(), [field]: value };
              await expectHandled({
                method: endpoint.method,
                path: pathFor(endpoint),
                headers: jsonHeaders(endpoint),
                body: JSON.stringify(body),
              });
            },
          ),
          { numRuns: 8 },
        );
      },
    );
  });

  it("a connect refused after the Twilio probe leaves the number's webhook untouched at Twilio", async () => {
    // FAILS until the fix: the NUL friendlyName passes validation, configureWebhook points the
    // number's SmsUrl at us, then the insert fails (22021) and rolls back: our database forgets the
    // channel but Twilio keeps routing the number's SMS to us (a half-written connect).
    const chatbotId = await createChatbot(ctx, fx.apiKey, 'Connect probe');
    const phoneNumber = randomNumber();
    const customerUrl = 'https://customer.example/sms';
    ctx.twilio.addNumber(fx.channel.accountSid, { phoneNumber, smsUrl: customerUrl });
    const response = await send({
      method: 'PUT',
      path: `/api/chatbots/${chatbotId}/channels/sms`,
      headers: { authorization: `Bearer ${fx.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        accountSid: fx.channel.accountSid,
        authToken: fx.channel.authToken,
        phoneNumber,
        friendlyName: 'Support\u0000',
        configureWebhook: true,
      }),
    });
    const [{ count }] = await ctx.t.running.app
      .get(DataSource)
      .query('SELECT count(*)::int AS count FROM sms_channels WHERE chatbot_id = $1', [chatbotId]);
    const smsUrl = ctx.twilio
      .numbers(fx.channel.accountSid)
      .find((number) => number.phoneNumber === phoneNumber)?.smsUrl;
    // Either connected everywhere, or nowhere.
    expect([
      { status: 'refused', stored: 0, smsUrl: customerUrl },
      { status: 'connected', stored: 1, smsUrl: `${TEST_PUBLIC_BASE_URL}${WEBHOOK_PATH}` },
    ]).toContainEqual({
      status: response.status >= 400 ? 'refused' : 'connected',
      stored: count,
      smsUrl,
    });
    expect(contractProblems(response)).toEqual([]);
  });

  describe('path ids, query parameters, headers, routes', () => {
    const placeholders = (endpoint: Endpoint) =>
      [...endpoint.template.matchAll(/:(\w+)/g)].map((match) => match[1]);

    it('malformed, unknown and foreign path ids: 400 or 404 in the contract shape, nothing written', async () => {
      const otherIds = () => ({
        chatbotId: fx.other.chatbotId,
        documentId: fx.other.documentId,
        conversationId: fx.other.conversationId,
      });
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...WITH_IDS).chain((endpoint) =>
            fc.tuple(
              fc.constant(endpoint),
              fc.constantFrom(...placeholders(endpoint)),
              fc.oneof(
                malformedPathId.map((id) => ({ kind: 'malformed' as const, id })),
                unknownUuid.map((id) => ({ kind: 'unknown' as const, id })),
                fc.constant({ kind: 'foreign' as const, id: '' }),
              ),
            ),
          ),
          async ([endpoint, placeholder, { kind, id }]) => {
            const value = kind === 'foreign' ? otherIds()[placeholder as 'chatbotId'] : id;
            const request = {
              method: endpoint.method,
              path: pathFor(endpoint, { [placeholder]: value }),
              headers: jsonHeaders(endpoint),
              body: JSON.stringify(endpoint.valid?.() ?? {}),
            };
            const response = await expectHandled(request, { unchangedOnSuccess: true });
            const expected = kind === 'malformed' ? [400, 404] : [404];
            if (!expected.includes(response.status))
              throw new Error(
                `a ${kind} ${placeholder} answered ${response.status}, expected ${expected.join(' or ')}\n  ${describeExchange(request, response)}`,
              );
          },
        ),
        { numRuns: 30 },
      );
    });

    it('a malformed path id answers 400 VALIDATION_FAILED naming the parameter on every endpoint', async () => {
      // FAILS until the fix on the three SMS channel routes, which use a bare ParseUUIDPipe:
      // 400 MALFORMED_BODY "Validation failed (uuid is expected)", no details.
      const failures: string[] = [];
      for (const endpoint of WITH_IDS)
        for (const placeholder of placeholders(endpoint)) {
          const response = await send({
            method: endpoint.method,
            path: pathFor(endpoint, { [placeholder]: 'not-a-uuid' }),
            headers: jsonHeaders(endpoint),
            body: JSON.stringify(endpoint.valid?.() ?? {}),
          });
          const error = errorBody(response);
          if (
            response.status !== 400 ||
            error.code !== 'VALIDATION_FAILED' ||
            !error.details?.some((detail) => detail.field === placeholder)
          )
            failures.push(`${endpoint.name} :${placeholder} → ${response.status} ${response.text}`);
        }
      expect(failures).toEqual([]);
    });

    it('hostile cursor, limit, channel and status query values: 200 with a page or a contract-shaped 400', async () => {
      const value = (arbitrary: fc.Arbitrary<string>) =>
        fc.oneof(
          arbitrary.map((text) => [percentEncodeBytes(text)]),
          fc.array(arbitrary.map(percentEncodeBytes), { minLength: 2, maxLength: 3 }),
        );
      await fc.assert(
        fc.asyncProperty(
          fc.record(
            {
              cursor: value(hostileCursor),
              limit: value(hostileLimit),
              channel: value(
                fc.oneof(fc.constantFrom('sms', 'SMS', 'whatsapp', ''), nastyString()),
              ),
              status: value(
                fc.oneof(fc.constantFrom('bot', 'human', 'closed', 'BOT'), nastyString()),
              ),
              'limit[a]': value(fc.constant('1')),
              [percentEncodeBytes('__proto__')]: value(fc.constant('1')),
            },
            { requiredKeys: [] },
          ),
          async (query) => {
            const search = Object.entries(query)
              .flatMap(([key, values]) => (values ?? []).map((v) => `${key}=${v}`))
              .join('&');
            const request = {
              method: 'GET',
              path: `/api/chatbots/${fx.chatbotId}/conversations${search ? `?${search}` : ''}`,
              headers: { authorization: `Bearer ${fx.apiKey}` },
            };
            const response = await expectHandled(request);
            if (response.status === 200) {
              const page = JSON.parse(response.text) as { items: unknown; nextCursor: unknown };
              if (
                !Array.isArray(page.items) ||
                !(page.nextCursor === null || typeof page.nextCursor === 'string')
              )
                throw new Error(`not a page: ${response.text}`);
            } else if (response.status !== 400) {
              throw new Error(`expected 200 or 400\n  ${describeExchange(request, response)}`);
            }
          },
        ),
        { numRuns: 30 },
      );
    });

    it('junk Authorization headers on every API endpoint: 401 UNAUTHORIZED, nothing written', async () => {
      const junk = fc.oneof(
        fc.constant(undefined),
        fc.constantFrom(
          '',
          'Bearer',
          'Bearer ',
          'Bearer  ',
          'Basic dXNlcjpwYXNz',
          'Token sk_0000000000000000_x',
          'Bearer sk_',
          'Bearer sk_0123456789abcdef_' + 'A'.repeat(43),
          'Bearer null',
          'Bearer undefined',
          "Bearer ' OR 1=1 --",
          'Bearer ' + 'x'.repeat(8_000),
        ),
        fc
          .string({ unit: fc.constantFrom(...'abcdefABC0123_-= .,;:\'"\\/'), maxLength: 80 })
          .map((text) => `Bearer ${text}`),
        fc.nat(40).map((cut) => `Bearer ${fx.apiKey.slice(0, cut)}`),
        fc.constant('KEY').map(() => fx.apiKey), // the key without "Bearer"
        fc.constant('KEY').map(() => `Bearer ${fx.apiKey}x`),
        fc.constant('KEY').map(() => `Bearer ${fx.apiKey} extra`),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...API_ENDPOINTS),
          junk,
          async (endpoint, authorization) => {
            const request = {
              method: endpoint.method,
              path: pathFor(endpoint),
              headers: { 'content-type': 'application/json', authorization },
              body: JSON.stringify(endpoint.valid?.() ?? {}),
            };
            const response = await expectHandled(request, { unchangedOnSuccess: true });
            if (response.status !== 401 || errorBody(response).code !== 'UNAUTHORIZED')
              throw new Error(
                `expected 401 UNAUTHORIZED\n  ${describeExchange(request, response)}`,
              );
          },
        ),
        { numRuns: 30 },
      );
    });

    it("a path id or header beyond Node's 16 kB header limit answers 431 in the contract shape", async () => {
      // FAILS until the fix: Node's HTTP parser answers these itself, before Express, with an
      // empty 431 and no Content-Type.
      const failures: string[] = [];
      for (const request of [
        {
          method: 'GET',
          path: `/api/chatbots/${'a'.repeat(20_000)}`,
          headers: { authorization: `Bearer ${fx.apiKey}` },
        },
        {
          method: 'GET',
          path: '/api/chatbots',
          headers: { authorization: `Bearer ${'x'.repeat(20_000)}` },
        },
      ]) {
        const response = await send(request);
        const problems = contractProblems(response);
        if (response.status !== 431 || problems.length)
          failures.push(`${problems.join('; ')}: ${describeExchange(request, response)}`);
      }
      expect(failures).toEqual([]);
    });

    it('unknown routes and methods: a contract-shaped 4xx', async () => {
      const segment = fc.oneof(
        nastyString()
          .filter((text) => text.length > 0)
          .map(percentEncodeBytes),
        fc.constantFrom(
          '%zz',
          '%',
          '..',
          '.',
          '%2e%2e',
          '%2F',
          'chatbots',
          'api',
          'webhooks',
          'docs-jsonx',
        ),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
          fc.constantFrom(
            '/api/',
            '/',
            '/api/v2/',
            `/api/chatbots/${'00000000-0000-4000-8000-000000000000'}/x-`,
            '/api/webhooks/twilio/x-',
          ),
          fc.array(segment, { minLength: 1, maxLength: 4 }),
          fc.boolean(),
          async (method, prefix, segments, withKey) => {
            const path = `${prefix}${segments.join('/')}`;
            if (
              /^\/api\/(health|chatbots|conversations|webhooks\/twilio\/sms|docs)(\/|$|\?)/.test(
                path,
              ) &&
              !path.includes('x-')
            )
              return; // might be a real route
            const response = await expectHandled({
              method,
              path,
              headers: withKey ? { authorization: `Bearer ${fx.apiKey}` } : {},
            });
            if (response.status < 400)
              throw new Error(`${method} ${path} answered ${response.status}`);
          },
        ),
        { numRuns: 30 },
      );
    });
  });

  describe('Twilio webhooks', () => {
    const TWILIO_KEYS = [
      'MessageSid',
      'SmsSid',
      'AccountSid',
      'MessagingServiceSid',
      'From',
      'To',
      'Body',
      'NumMedia',
      'NumSegments',
      'MediaUrl0',
      'MediaContentType0',
      'OptOutType',
      'MessageStatus',
      'ErrorCode',
      'FromCountry',
      'ApiVersion',
    ];
    const extraKey = fc.oneof(
      fc.constantFrom('toString', 'hasOwnProperty', 'constructor', 'valueOf', 'Body2', 'x'),
      fc.string({ unit: fc.constantFrom(...'abcXYZ019_'), minLength: 1, maxLength: 10 }),
    );

    /** A form body signed with the channel's token over exactly the params the server decodes. */
    const signed = (path: string, entries: [string, string][], rawTail = '') => {
      const body = formBody(entries) + rawTail;
      const params = decodeFormBody(body);
      return {
        method: 'POST',
        path,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilio.getExpectedTwilioSignature(
            fx.channel.authToken,
            `${TEST_PUBLIC_BASE_URL}${path}`,
            params,
          ),
        },
        body,
      };
    };

    const storedInbound = async (sid: string) =>
      (await ctx.t.running.app
        .get(DataSource)
        .query('SELECT body, organization_id FROM messages WHERE twilio_sid = $1', [sid])) as {
        body: string;
        organization_id: string;
      }[];

    it('unsigned, forged or misaddressed webhooks: 403 (or another 4xx) in the contract shape, nothing stored', async () => {
      // FAILS until the fix: a signed-looking request whose `To` (or `From` on the status
      // callback) holds a NUL byte reaches the channel lookup, PostgreSQL rejects the parameter
      // and an unauthenticated caller gets a 500 (and a Sentry event).
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(WEBHOOK_PATH, STATUS_PATH),
          fc.dictionary(fc.constantFrom(...TWILIO_KEYS), nastyString(), { maxKeys: 6 }),
          fc.oneof(fc.constant(null), nastyString()),
          fc.constantFrom('none', 'junk', 'wrong token', 'other params', 'other url'),
          async (path, params, number, signature) => {
            const numberField = path === STATUS_PATH ? 'From' : 'To';
            const fields: Record<string, string> = {
              AccountSid: fx.channel.accountSid,
              ...params,
              [numberField]: number ?? fx.channel.phoneNumber,
            };
            const body = formBody(Object.entries(fields));
            const decoded = decodeFormBody(body);
            const sign = (token: string, url: string, p: Record<string, string>) =>
              twilio.getExpectedTwilioSignature(token, url, p);
            const header = {
              none: undefined,
              junk: 'not-a-signature',
              'wrong token': sign('0'.repeat(32), `${TEST_PUBLIC_BASE_URL}${path}`, decoded),
              'other params': sign(fx.channel.authToken, `${TEST_PUBLIC_BASE_URL}${path}`, {
                ...decoded,
                Body: `${decoded.Body ?? ''}!`,
              }),
              'other url': sign(fx.channel.authToken, `${ctx.t.baseUrl}${path}`, decoded),
            }[signature];
            const response = await expectHandled(
              {
                method: 'POST',
                path,
                headers: {
                  'content-type': 'application/x-www-form-urlencoded',
                  'x-twilio-signature': header,
                },
                body,
              },
              { unchangedOnSuccess: true },
            );
            if (response.status < 400)
              throw new Error(`an unsigned webhook answered ${response.status}`);
          },
        ),
        {
          numRuns: 30,
          // Regression example: the NUL number that reaches the database.
          examples: [[WEBHOOK_PATH, {}, '+1555\u0000', 'junk']],
        },
      );
    });

    it('a validly signed inbound webhook with hostile Body/From/… values is stored (200) or refused (4xx), never 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.record(
            {
              From: fc.oneof(
                fc.constant('VALID').map(() => randomNumber()),
                fc.constantFrom(
                  '+1',
                  '+0123456789',
                  '12025550123',
                  '+1202555012345678',
                  'ACME',
                  '72345',
                  'My Bank',
                  '',
                ),
                fc.constant('OWN').map(() => fx.channel.phoneNumber),
                nastyString({ withNul: false }),
              ),
              Body: fc.oneof(
                nastyString({ withNul: false, maxPieces: 10 }),
                fc.constantFrom(
                  'a'.repeat(9_999) + '😀',
                  '😀'.repeat(5_001),
                  'STOP',
                  'START',
                  'HELP',
                  '',
                ),
              ),
              NumMedia: fc.oneof(
                fc.constantFrom('0', '1', '10', '-1', '1e400', 'NaN', '99999999999999999999'),
                nastyString({ withNul: false }),
              ),
              MediaUrl0: nastyString({ withNul: false }),
              OptOutType: fc.oneof(
                fc.constantFrom('STOP', 'START', 'HELP', 'stop', 'constructor', '__proto__'),
                nastyString({ withNul: false }),
              ),
            },
            { requiredKeys: ['From', 'Body'] },
          ),
          fc.array(fc.tuple(extraKey, nastyString({ withNul: false })), { maxLength: 3 }),
          fc.constantFrom('SM', 'MM', 'hostile'),
          async (hostile, extra, sidKind) => {
            const sid =
              sidKind === 'hostile'
                ? `SM${randomUUID()}`
                : `${sidKind}${randomMessageSid().slice(2)}`;
            const entries: [string, string][] = [
              ['MessageSid', sid],
              ['AccountSid', fx.channel.accountSid],
              ['To', fx.channel.phoneNumber],
              ...(Object.entries(hostile) as [string, string][]),
              ...extra.filter(([key]) => !['MessageSid', 'AccountSid', 'To'].includes(key)),
            ];
            const request = signed(WEBHOOK_PATH, entries);
            const response = await expectHandled(request, { jsonContentType: false });
            const rows = await storedInbound(sid);
            if (response.status === 200) {
              if (rows.length !== 1)
                throw new Error(`200 but ${rows.length} rows stored for ${sid}`);
              const sent = decodeFormBody(request.body);
              expect(rows[0].body).toBe(asStoredByPostgres(sent.Body.slice(0, 10_000)));
              // The sender as Twilio signed it, and no reply unless it is a number we may text.
              const [stored] = await ctx.t.running.app.get(DataSource).query(
                `SELECT c.customer_number,
                   (SELECT count(*)::int FROM pgboss.job j
                    WHERE j.name = 'sms-reply' AND j.data->>'messageId' = m.id::text) AS jobs
                 FROM messages m JOIN conversations c ON c.id = m.conversation_id
                 WHERE m.twilio_sid = $1`,
                [sid],
              );
              expect(stored.customer_number).toBe(asStoredByPostgres(sent.From));
              const replyable =
                /^\+[1-9]\d{6,14}$/.test(sent.From) && sent.From !== fx.channel.phoneNumber;
              if (!replyable && stored.jobs !== 0)
                throw new Error(`a reply was queued for the sender ${JSON.stringify(sent.From)}`);
            } else if (rows.length) {
              throw new Error(`refused with ${response.status} but stored`);
            }
          },
        ),
        { numRuns: 40 },
      );
    });

    it('a NUL byte, a lone surrogate or invalid UTF-8 in a signed Body is stored (200) or refused (4xx), never a 5xx', async () => {
      // FAILS until the fix (NUL): the insert fails with 22021 and Twilio gets a 500 — and retries.
      // A lone surrogate cannot arrive through a form (it decodes to U+FFFD or stays
      // percent-encoded), nor can a CESU-8 one; both are probed here alongside NUL.
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            stringWithNul.map((body) => ({ body, raw: '' })),
            nastyString().map((body) => ({ body: `${body}\ud800`, raw: '' })),
            fc
              .constantFrom('%ED%A0%80', '%00', '%FF%FE', '%C0%80', '%F4%90%80%80', '%E0%80')
              .map((raw) => ({ body: 'x', raw })),
          ),
          async ({ body, raw }) => {
            const sid = randomMessageSid();
            const entries: [string, string][] = [
              ['MessageSid', sid],
              ['AccountSid', fx.channel.accountSid],
              ['From', randomNumber()],
              ['To', fx.channel.phoneNumber],
              ['Body', body],
            ];
            // `raw` is appended to the encoded Body as is: bytes that are not valid UTF-8.
            const encoded = formBody(entries) + raw;
            const params = decodeFormBody(encoded);
            const request = {
              method: 'POST',
              path: WEBHOOK_PATH,
              headers: {
                'content-type': 'application/x-www-form-urlencoded',
                'x-twilio-signature': twilio.getExpectedTwilioSignature(
                  fx.channel.authToken,
                  `${TEST_PUBLIC_BASE_URL}${WEBHOOK_PATH}`,
                  params,
                ),
              },
              body: encoded,
            };
            const response = await expectHandled(request, { jsonContentType: false });
            const rows = await storedInbound(sid);
            if (response.status === 200 && rows.length !== 1)
              throw new Error(`200 but ${rows.length} rows stored`);
            if (response.status !== 200 && rows.length) throw new Error('refused but stored');
          },
        ),
        { numRuns: 25 },
      );
    });

    it('a validly signed status callback with hostile MessageSid/MessageStatus/ErrorCode never answers 5xx and changes nothing', async () => {
      // FAILS until the fix: MessageStatus "constructor" / "__proto__" finds an inherited property
      // of DELIVERY_RANK (→ "invalid input syntax for type smallint"), a NUL in MessageSid and an
      // ErrorCode beyond int4 (e.g. 99999999999) reach PostgreSQL → 500.
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.constant('VALID').map(() => randomMessageSid()),
            nastyString(),
          ),
          fc.oneof(
            fc.constantFrom(
              'queued',
              'sent',
              'delivered',
              'undelivered',
              'failed',
              'read',
              'received',
              'DELIVERED',
            ),
            fc.constantFrom(
              'constructor',
              '__proto__',
              'toString',
              'hasOwnProperty',
              'valueOf',
              '__defineGetter__',
            ),
            nastyString(),
          ),
          fc.oneof(
            fc.constantFrom(
              '30003',
              '21610',
              '0',
              '-1',
              '2147483647',
              '2147483648',
              '99999999999',
              '1e10',
              '0x10',
              '',
            ),
            nastyString(),
          ),
          async (sid, status, errorCode) => {
            const request = signed(STATUS_PATH, [
              ['MessageSid', sid],
              ['AccountSid', fx.channel.accountSid],
              ['From', fx.channel.phoneNumber],
              ['To', randomNumber()],
              ['MessageStatus', status],
              ['ErrorCode', errorCode],
            ]);
            await expectHandled(request, { jsonContentType: false, unchangedOnSuccess: true });
          },
        ),
        { numRuns: 40 },
      );
    });

    it('each known hostile status callback answers 200 or 4xx (one line per failing input)', async () => {
      // FAILS until the fix, listing each cause separately (see the property above).
      const valid = () => randomMessageSid();
      const cases: [string, string, string][] = [
        [valid(), 'constructor', ''],
        [valid(), '__proto__', ''],
        [valid(), 'toString', ''],
        ['SM\u0000', 'delivered', ''],
        [valid(), 'failed', '99999999999'],
        [valid(), 'undelivered', '2147483648'],
        [valid(), 'failed', '-99999999999'],
        [valid(), 'delivered', '\u0000'],
      ];
      const failures: string[] = [];
      for (const [sid, status, errorCode] of cases) {
        const request = signed(STATUS_PATH, [
          ['MessageSid', sid],
          ['AccountSid', fx.channel.accountSid],
          ['From', fx.channel.phoneNumber],
          ['To', randomNumber()],
          ['MessageStatus', status],
          ['ErrorCode', errorCode],
        ]);
        try {
          await expectHandled(request, { jsonContentType: false, unchangedOnSuccess: true });
        } catch (error) {
          failures.push(
            `MessageSid=${JSON.stringify(sid)} MessageStatus=${JSON.stringify(status)} ErrorCode=${JSON.stringify(errorCode)}: ${(error as Error).message.split('\n')[0]}`,
          );
        }
      }
      expect(failures).toEqual([]);
    });

    it("a failed status callback for a MessageSid we never sent leaves the channel's lastError alone", async () => {
      // FAILS until the fix: on PostgreSQL, TypeORM's dataSource.query() resolves an UPDATE …
      // RETURNING to [rows, affectedCount], so `rows.length > 0` is always true: every failed or
      // undelivered callback, even for a SID that is not ours (another app on the same number),
      // records lastError on the channel and sends a Sentry warning with messageId undefined.
      const dataSource = ctx.t.running.app.get(DataSource);
      await dataSource.query(
        'UPDATE sms_channels SET last_error = NULL, last_error_at = NULL WHERE chatbot_id = $1',
        [fx.chatbotId],
      );
      const response = await send(
        signed(STATUS_PATH, [
          ['MessageSid', randomMessageSid()],
          ['AccountSid', fx.channel.accountSid],
          ['From', fx.channel.phoneNumber],
          ['To', randomNumber()],
          ['MessageStatus', 'undelivered'],
          ['ErrorCode', '30003'],
        ]),
      );
      expect(response.status).toBe(200);
      const status = await send({
        method: 'GET',
        path: `/api/chatbots/${fx.chatbotId}/channels/sms`,
        headers: { authorization: `Bearer ${fx.apiKey}` },
      });
      expect((JSON.parse(status.text) as { lastError: unknown }).lastError).toBeNull();
    });

    it('webhook errors are served as application/json, not under the TwiML content type', async () => {
      // FAILS until the fix: @Header('Content-Type', 'text/xml') is applied before the handler
      // runs, so an error thrown by the handler (here 400 for a malformed MessageSid) is JSON
      // labelled text/xml.
      const request = signed(WEBHOOK_PATH, [
        ['MessageSid', 'SM-not-a-message-sid'],
        ['AccountSid', fx.channel.accountSid],
        ['From', randomNumber()],
        ['To', fx.channel.phoneNumber],
        ['Body', 'hi'],
      ]);
      const response = await send(request);
      expect(response.status).toBe(400);
      expect({ contentType: response.contentType, problems: contractProblems(response) }).toEqual({
        contentType: expect.stringMatching(/^application\/json/),
        problems: [],
      });
    });
  });
});
