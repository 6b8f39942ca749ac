/**
 * The OpenAPI documents tell the whole story, and openapi.json (the dashboard's) and
 * openapi.webhooks.json (Twilio's webhooks) are those documents: every operation has a chosen
 * operationId, a tag, a summary, described success and error responses (each error with its
 * `code`), examples, and bearer auth except on Twilio's webhooks and health; ids are UUIDs, times
 * date-times, whole numbers integers, closed values enums. A route added without its
 * documentation fails here, and so does a committed document nobody regenerated.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { ERROR_STATUS, ErrorCode } from '../src/common/errors/error-codes';
import { REPO_ROOT } from './support/app-process';
import { startTestApp, TEST_PUBLIC_BASE_URL, TestApp } from './support/test-app';

interface Operation {
  operationId?: string;
  tags?: string[];
  summary?: string;
  security?: Record<string, string[]>[];
  parameters?: {
    name: string;
    in: string;
    required?: boolean;
    example?: unknown;
    schema?: { example?: unknown; default?: unknown };
  }[];
  requestBody?: { content: Record<string, { schema?: Schema }> };
  responses: Record<
    string,
    {
      description?: string;
      headers?: Record<string, { schema?: Schema }>;
      content?: Record<
        string,
        { schema?: Schema; example?: unknown; examples?: Record<string, { value: unknown }> }
      >;
    }
  >;
}
interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  example?: unknown;
  items?: Schema;
  allOf?: Schema[];
  properties?: Record<string, Schema>;
}
interface Document {
  servers?: { url: string }[];
  tags: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, unknown> };
}

const run = promisify(execFile);
const PUBLIC_ROUTES = /^\/api\/(webhooks\/|health(\/live|\/ready)?$)/;
/** Liveness answers 200 whenever the process answers at all: it has no error response. */
const NO_ERROR_RESPONSE = new Set(['GET /api/health/live']);

describe('OpenAPI documents', () => {
  let t: TestApp;
  let doc: Document;
  let webhooksDoc: Document;
  /** Both documents' operations; `dashboard` only the dashboard document's. */
  const operations: [string, Operation][] = [];
  const dashboard: [string, Operation][] = [];

  beforeAll(async () => {
    t = await startTestApp();
    doc = (await request(t.http).get('/api/docs-json').expect(200)).body as Document;
    webhooksDoc = (await request(t.http).get('/api/docs-webhooks-json').expect(200))
      .body as Document;
    for (const [document, list] of [
      [doc, dashboard],
      [webhooksDoc, null],
    ] as const) {
      for (const [path, item] of Object.entries(document.paths)) {
        for (const [method, operation] of Object.entries(item)) {
          operations.push([`${method.toUpperCase()} ${path}`, operation]);
          list?.push([`${method.toUpperCase()} ${path}`, operation]);
        }
      }
    }
  });
  afterAll(() => t.close());

  it.each([
    ['openapi.json', () => doc],
    ['openapi.webhooks.json', () => webhooksDoc],
  ])('%s is what the code serves (run `npm run openapi` after an API change)', (file, served) => {
    const committed = JSON.parse(readFileSync(join(REPO_ROOT, file), 'utf8'));
    // The one difference: `servers` is this server as reached, then its PUBLIC_BASE_URL.
    expect(served().servers).toEqual([
      expect.objectContaining({ url: '/' }),
      expect.objectContaining({ url: TEST_PUBLIC_BASE_URL }),
    ]);
    expect(committed.servers).toEqual([expect.objectContaining({ url: 'http://localhost:3000' })]);
    expect({ ...committed, servers: served().servers }).toEqual(served());
  });

  it("keeps Twilio's webhooks out of the dashboard's document, and only them in their own", () => {
    expect(Object.keys(doc.paths).filter((path) => path.startsWith('/api/webhooks/'))).toEqual([]);
    expect(Object.keys(webhooksDoc.paths).sort()).toEqual([
      '/api/webhooks/twilio/sms',
      '/api/webhooks/twilio/sms/status',
    ]);
    expect(doc.tags.map((tag) => tag.name)).not.toContain('twilio webhooks');
    expect(Object.keys(webhooksDoc.components.schemas)).toEqual(
      expect.arrayContaining(['TwilioInboundSms', 'TwilioStatusCallback']),
    );
  });

  it('names every operation on purpose: an operationId on each, unique, no Nest default', () => {
    const ids = operations.map(([, op]) => op.operationId);
    expect(ids.filter((id) => !id || /Controller_/.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    const byName = Object.fromEntries(operations.map(([name, op]) => [name, op.operationId]));
    expect(byName).toEqual(
      expect.objectContaining({
        'GET /api/chatbots': 'listChatbots',
        'PUT /api/chatbots/{chatbotId}/channels/sms': 'connectSmsChannel',
        'GET /api/chatbots/{chatbotId}/channels/sms': 'getSmsChannelStatus',
        'POST /api/conversations/{conversationId}/messages': 'sendAgentMessage',
        'GET /api/conversations/{conversationId}/messages': 'listConversationMessages',
      }),
    );
  });

  it('names schemas without Dto and names every body and response schema', () => {
    const names = [
      ...Object.keys(doc.components.schemas),
      ...Object.keys(webhooksDoc.components.schemas),
    ];
    expect(names.filter((name) => /Dto$/.test(name))).toEqual([]);
    const anonymous: string[] = [];
    for (const [name, op] of operations) {
      const media = [
        ...Object.entries(op.requestBody?.content ?? {}).map(
          ([type, m]) => [`body ${type}`, m] as const,
        ),
        ...Object.entries(op.responses).flatMap(([status, r]) =>
          Object.entries(r.content ?? {}).map(([type, m]) => [`${status} ${type}`, m] as const),
        ),
      ];
      for (const [where, m] of media) {
        const schema = m.schema;
        if (where.includes('text/xml')) continue;
        if (!schema?.$ref && !schema?.items?.$ref) anonymous.push(`${name} ${where}`);
      }
    }
    expect(anonymous).toEqual([]);
  });

  it('gives every response a description', () => {
    const missing = operations.flatMap(([name, op]) =>
      Object.entries(op.responses)
        .filter(([, response]) => !response.description?.trim())
        .map(([status]) => `${name} ${status}`),
    );
    expect(missing).toEqual([]);
  });

  /** Every property of every schema, with its schema's name. */
  const properties = (document: () => Document) =>
    Object.entries(document().components.schemas).flatMap(([schemaName, schema]) =>
      Object.entries(schema.properties ?? {}).map(([property, value]) => ({
        where: `${schemaName}.${property}`,
        property,
        value,
      })),
    );

  it('types ids as uuid, times as date-time, whole numbers as integer', () => {
    const wrong: string[] = [];
    for (const { where, property, value } of properties(() => doc)) {
      if ((property === 'id' || property.endsWith('Id')) && value.format !== 'uuid')
        wrong.push(`${where}: ${value.format ?? 'no format'}, not uuid`);
      if (property.endsWith('At') && value.format !== 'date-time')
        wrong.push(`${where}: ${value.format ?? 'no format'}, not date-time`);
      if (value.type === 'number') wrong.push(`${where}: number, not integer`);
    }
    for (const [name, op] of dashboard)
      for (const parameter of op.parameters ?? [])
        if ((parameter.schema as Schema | undefined)?.type === 'number')
          wrong.push(`${name} parameter ${parameter.name}: number, not integer`);
    expect(wrong).toEqual([]);
  });

  it('lists the values of every closed field as an enum, in requests and responses alike', () => {
    const open: string[] = [];
    const closed = /^(deliveryStatus|author|direction|status|language|encoding|channel|code)$/;
    for (const { where, property, value } of properties(() => doc)) {
      const enumerated = value.enum ?? value.items?.enum;
      if (closed.test(property) && !enumerated) open.push(where);
    }
    expect(open).toEqual([]);
    const message = doc.components.schemas.MessageResponse.properties!;
    expect(message.deliveryStatus.enum).toEqual(
      expect.arrayContaining(['pending', 'sending', 'queued', 'sent', 'delivered', 'failed']),
    );
  });

  it('serves from PUBLIC_BASE_URL and describes the bearer scheme as an API key, not a JWT', () => {
    expect(doc.servers?.map((server) => server.url)).toEqual(['/', TEST_PUBLIC_BASE_URL]);
    expect(doc.components.securitySchemes.bearer).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'API key' }),
    );
  });

  it('documents Retry-After on every 429, and the rate-limit headers on the dashboard', () => {
    for (const [name, op] of operations) {
      const headers = Object.keys(op.responses['429']?.headers ?? {});
      if (!op.responses['429']) continue;
      expect({ name, headers }).toEqual({
        name,
        headers: PUBLIC_ROUTES.test(name.split(' ')[1])
          ? ['Retry-After']
          : ['Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'],
      });
    }
  });

  it('gives each operation a 400 example naming one of its own fields', () => {
    const unfit: string[] = [];
    for (const [name, op] of dashboard) {
      const example = op.responses['400']?.content?.['application/json']?.examples
        ?.VALIDATION_FAILED?.value as { details?: { field: string }[] } | undefined;
      if (!example) continue;
      const field = example.details?.[0]?.field;
      const body = op.requestBody?.content['application/json']?.schema?.$ref?.split('/').pop();
      const own = [
        ...(op.parameters ?? []).map((p) => p.name),
        ...Object.keys((body && doc.components.schemas[body]?.properties) ?? {}),
      ];
      if (!field || !own.includes(field)) unfit.push(`${name}: ${field}`);
    }
    expect(unfit).toEqual([]);
  });

  it('covers every route of the contract', () => {
    expect(operations.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        'GET /api/health',
        'GET /api/health/live',
        'GET /api/health/ready',
        'PUT /api/chatbots/{chatbotId}/channels/sms',
        'GET /api/chatbots/{chatbotId}/channels/sms',
        'DELETE /api/chatbots/{chatbotId}/channels/sms',
        'POST /api/webhooks/twilio/sms',
        'POST /api/webhooks/twilio/sms/status',
        'GET /api/chatbots/{chatbotId}/conversations',
        'POST /api/conversations/{conversationId}/messages',
      ]),
    );
  });

  it('gives every operation a tag and a summary, and every tag a description', () => {
    const missing = operations
      .filter(([, op]) => !op.tags?.length || !op.summary?.trim())
      .map(([name]) => name);
    expect(missing).toEqual([]);
    const described = new Set(
      [...doc.tags, ...webhooksDoc.tags].filter((tag) => tag.description).map((tag) => tag.name),
    );
    const used = new Set(operations.flatMap(([, op]) => op.tags ?? []));
    expect([...used].filter((tag) => !described.has(tag))).toEqual([]);
  });

  it('requires the bearer API key everywhere except on Twilio webhooks and health', () => {
    expect(doc.components.securitySchemes).toHaveProperty('bearer');
    for (const [name, op] of operations) {
      const bearer = (op.security ?? []).some((requirement) => 'bearer' in requirement);
      expect({ name, bearer }).toEqual({ name, bearer: !PUBLIC_ROUTES.test(name.split(' ')[1]) });
    }
  });

  it('documents a success response with a schema or an example', () => {
    for (const [name, op] of operations) {
      const success = Object.entries(op.responses).filter(([status]) => /^2/.test(status));
      expect({ name, success: success.length > 0 }).toEqual({ name, success: true });
      for (const [status, response] of success) {
        if (status === '204') continue;
        const media = Object.values(response.content ?? {});
        const described = media.some(
          (m) => m.schema?.$ref || m.schema?.items?.$ref || m.example || m.schema?.example,
        );
        expect({ name, status, described }).toEqual({ name, status, described: true });
      }
    }
  });

  it('lists every error response with its codes, each an example in the error shape', () => {
    for (const [name, op] of operations) {
      const errors = Object.entries(op.responses).filter(([status]) => /^[45]/.test(status));
      expect({ name, hasErrors: errors.length > 0 }).toEqual({
        name,
        hasErrors: !NO_ERROR_RESPONSE.has(name),
      });
      for (const [status, response] of errors) {
        const json = response.content?.['application/json'];
        expect({ name, status, schema: json?.schema?.$ref }).toEqual({
          name,
          status,
          schema: '#/components/schemas/ErrorResponse',
        });
        const examples = Object.entries(json?.examples ?? {});
        expect({ name, status, examples: examples.length > 0 }).toEqual({
          name,
          status,
          examples: true,
        });
        for (const [code, { value }] of examples) {
          expect(ERROR_STATUS[code as ErrorCode]).toBe(Number(status));
          expect(value).toEqual(
            expect.objectContaining({
              statusCode: Number(status),
              code,
              message: expect.any(String),
            }),
          );
          expect(response.description).toContain(`\`${code}\``);
        }
      }
      if (!PUBLIC_ROUTES.test(name.split(' ')[1])) {
        expect({
          name,
          examples: Object.keys(op.responses['401']?.content?.['application/json']?.examples ?? {}),
        }).toEqual({ name, examples: ['UNAUTHORIZED'] });
      }
    }
  });

  it('documents the contract error codes of connect', () => {
    const connect = doc.paths['/api/chatbots/{chatbotId}/channels/sms'].put;
    const codes = Object.values(connect.responses).flatMap((r) =>
      Object.keys(r.content?.['application/json']?.examples ?? {}),
    );
    expect(codes).toEqual(
      expect.arrayContaining([
        'VALIDATION_FAILED',
        'TWILIO_CREDENTIALS_REJECTED',
        'TWILIO_NUMBER_NOT_OWNED',
        'TWILIO_UNREACHABLE',
        'PLAN_UPGRADE_REQUIRED',
        'NUMBER_ALREADY_CONNECTED',
      ]),
    );
  });

  it('has an example for every required parameter and every schema property', () => {
    const missing: string[] = [];
    for (const [name, op] of operations) {
      for (const parameter of op.parameters ?? []) {
        if (
          parameter.required &&
          parameter.example === undefined &&
          parameter.schema?.example === undefined
        ) {
          missing.push(`${name} parameter ${parameter.name}`);
        }
      }
    }
    for (const [schemaName, schema] of Object.entries({
      ...doc.components.schemas,
      ...webhooksDoc.components.schemas,
    })) {
      for (const [property, value] of Object.entries(schema.properties ?? {})) {
        const nested = value.$ref || value.items?.$ref || value.allOf;
        if (!nested && value.example === undefined) missing.push(`${schemaName}.${property}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('pre-fills no optional parameter in Try it out, unless with its default (no filter hides data, no shared Idempotency-Key)', () => {
    const prefilled: string[] = [];
    for (const [name, op] of operations) {
      if (PUBLIC_ROUTES.test(name.split(' ')[1])) continue;
      for (const parameter of op.parameters ?? []) {
        if (parameter.required) continue;
        const example = parameter.example ?? parameter.schema?.example;
        if (example !== undefined && example !== parameter.schema?.default)
          prefilled.push(`${name} parameter ${parameter.name}: ${JSON.stringify(example)}`);
      }
    }
    expect(prefilled).toEqual([]);
  });

  it("describes Twilio's webhooks: form parameters, the signature header, text/xml", () => {
    const schemaOf = (schema?: Schema) =>
      schema?.$ref ? webhooksDoc.components.schemas[schema.$ref.split('/').pop()!] : schema;
    for (const path of ['/api/webhooks/twilio/sms', '/api/webhooks/twilio/sms/status']) {
      const op = webhooksDoc.paths[path].post;
      expect(op.parameters).toContainEqual(
        expect.objectContaining({ name: 'X-Twilio-Signature', in: 'header' }),
      );
      const form = schemaOf(op.requestBody?.content['application/x-www-form-urlencoded']?.schema);
      expect(Object.keys(form?.properties ?? {})).toEqual(
        expect.arrayContaining(['MessageSid', 'AccountSid', 'From', 'To']),
      );
      expect(op.responses['200'].content).toHaveProperty('text/xml');
    }
    const inbound = schemaOf(
      webhooksDoc.paths['/api/webhooks/twilio/sms'].post.requestBody!.content[
        'application/x-www-form-urlencoded'
      ].schema,
    )!;
    expect(Object.keys(inbound.properties!)).toEqual(
      expect.arrayContaining(['Body', 'NumMedia', 'MediaUrl0', 'OptOutType']),
    );
  });
});

describe('npm run openapi (both documents)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-openapi-'));
  const file = join(dir, 'openapi.json');
  const openapi = (...args: string[]) =>
    run(process.execPath, ['-r', 'ts-node/register/transpile-only', 'tools/openapi.ts', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: '' },
    }).then(
      () => 0,
      (error: { code: number }) => error.code,
    );
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes both committed documents without a database, and --check fails once either differs', async () => {
    expect(await openapi('--file', file)).toBe(0);
    const webhooks = join(dir, 'openapi.webhooks.json');
    const written = readFileSync(webhooks, 'utf8');
    expect(readFileSync(file, 'utf8')).toBe(readFileSync(join(REPO_ROOT, 'openapi.json'), 'utf8'));
    expect(written).toBe(readFileSync(join(REPO_ROOT, 'openapi.webhooks.json'), 'utf8'));
    expect(await openapi('--check', '--file', file)).toBe(0);
    writeFileSync(webhooks, '{}\n');
    expect(await openapi('--check', '--file', file)).toBe(1);
    writeFileSync(webhooks, written);
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('"summary": "A chatbot"', '"summary": "x"'),
    );
    expect(await openapi('--check', '--file', file)).toBe(1);
  }, 120_000);
});
