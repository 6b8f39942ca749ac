/**
 * The OpenAPI document tells the whole story, and openapi.json is that document: every operation
 * has a tag, a summary, documented success and error responses (each error with its `code`),
 * examples everywhere, and bearer auth except on Twilio's webhooks and health. A route added
 * without its documentation fails here, and so does an openapi.json nobody regenerated.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { ERROR_STATUS, ErrorCode } from '../src/common/errors/error-codes';
import { REPO_ROOT } from './support/app-process';
import { startTestApp, TestApp } from './support/test-app';

interface Operation {
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
  example?: unknown;
  items?: Schema;
  allOf?: Schema[];
  properties?: Record<string, Schema>;
}
interface Document {
  tags: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, unknown> };
}

const run = promisify(execFile);
const PUBLIC_ROUTES = /^\/api\/(webhooks\/|health(\/live|\/ready)?$)/;
/** Liveness answers 200 whenever the process answers at all: it has no error response. */
const NO_ERROR_RESPONSE = new Set(['GET /api/health/live']);

describe('OpenAPI document', () => {
  let t: TestApp;
  let doc: Document;
  const operations: [string, Operation][] = [];

  beforeAll(async () => {
    t = await startTestApp();
    doc = (await request(t.http).get('/api/docs-json').expect(200)).body as Document;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        operations.push([`${method.toUpperCase()} ${path}`, operation]);
      }
    }
  });
  afterAll(() => t.close());

  it('is what the committed openapi.json says (run `npm run openapi` after an API change)', () => {
    const committed = JSON.parse(readFileSync(join(REPO_ROOT, 'openapi.json'), 'utf8'));
    expect(committed).toEqual(doc);
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
    const described = new Set(doc.tags.filter((tag) => tag.description).map((tag) => tag.name));
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
    for (const [schemaName, schema] of Object.entries(doc.components.schemas)) {
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
    for (const path of ['/api/webhooks/twilio/sms', '/api/webhooks/twilio/sms/status']) {
      const op = doc.paths[path].post;
      expect(op.parameters).toContainEqual(
        expect.objectContaining({ name: 'X-Twilio-Signature', in: 'header' }),
      );
      const form = op.requestBody?.content['application/x-www-form-urlencoded']?.schema;
      expect(Object.keys(form?.properties ?? {})).toEqual(
        expect.arrayContaining(['MessageSid', 'AccountSid', 'From', 'To']),
      );
      expect(op.responses['200'].content).toHaveProperty('text/xml');
    }
    const inbound =
      doc.paths['/api/webhooks/twilio/sms'].post.requestBody!.content[
        'application/x-www-form-urlencoded'
      ].schema!;
    expect(Object.keys(inbound.properties!)).toEqual(
      expect.arrayContaining(['Body', 'NumMedia', 'MediaUrl0', 'OptOutType']),
    );
  });
});

describe('npm run openapi', () => {
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

  it('writes the committed document without a database, and --check fails once it differs', async () => {
    expect(await openapi('--file', file)).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(readFileSync(join(REPO_ROOT, 'openapi.json'), 'utf8'));
    expect(await openapi('--check', '--file', file)).toBe(0);
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('"summary": "A chatbot"', '"summary": "x"'),
    );
    expect(await openapi('--check', '--file', file)).toBe(1);
  }, 60_000);
});
