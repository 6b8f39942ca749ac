import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { DOCUMENTS, OpenApiIndex } from './openapi';
import { account, CUSTOMER, double, NUMBER, raw, useTwilioDouble } from './spec-harness';

describe('TwilioDouble and its OpenAPI documents', () => {
  useTwilioDouble();

  it('implements every operation its documents define', () => {
    expect(double.unimplementedOperations()).toEqual([]);
  });

  describe('parameters the document does not define', () => {
    it('refuses an unknown form parameter with 400 / 20001', async () => {
      const res = await raw('POST', '/Messages.json', {
        To: CUSTOMER,
        From: NUMBER,
        Body: 'hi',
        StatusCallbackUrl: 'https://app.example.com/status',
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 20001, status: 400 });
      expect(res.body.message).toContain('StatusCallbackUrl');
      expect(double.messages).toHaveLength(0);
    });

    it('refuses an unknown query parameter', async () => {
      const res = await raw('GET', '/IncomingPhoneNumbers.json', { PhoneNumbr: NUMBER });
      expect(res.body).toMatchObject({ code: 20001, status: 400 });
      expect(res.body.message).toContain('PhoneNumbr');
    });

    it('takes the whitelist from the OpenAPI file', () => {
      const spec = OpenApiIndex.load();
      const create = spec.operations.find((o) => o.operationId === 'CreateMessage');
      expect(create?.method).toBe('POST');
      expect([...(create?.form.keys() ?? [])]).toEqual(
        expect.arrayContaining(['To', 'From', 'Body', 'StatusCallback', 'MessagingServiceSid']),
      );
      expect(create?.form.get('To')?.required).toBe(true);
    });
  });

  describe('response shapes', () => {
    it('only uses property names the document defines', async () => {
      const spec = OpenApiIndex.load();
      const allowed = (schema: string) => spec.schemaProperties(schema);
      const accountRes = await raw('GET', '.json');
      expect(allowed('api.v2010.account')).toEqual(
        expect.arrayContaining(Object.keys(accountRes.body)),
      );
      expect(accountRes.body.auth_token).toBe(account.authToken);
      expect(accountRes.body.date_created).toMatch(
        /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/,
      );

      const list = await raw('GET', '/IncomingPhoneNumbers.json');
      const [number] = list.body.incoming_phone_numbers as Record<string, unknown>[];
      expect(allowed('api.v2010.account.incoming_phone_number')).toEqual(
        expect.arrayContaining(Object.keys(number)),
      );

      const message = await raw('POST', '/Messages.json', {
        To: CUSTOMER,
        From: NUMBER,
        Body: 'hi',
      });
      expect(message.status).toBe(201);
      expect(allowed('api.v2010.account.message')).toEqual(
        expect.arrayContaining(Object.keys(message.body)),
      );
    });

    it('answers 404 / 20404 for paths outside the document, 405 for undefined methods', async () => {
      const unknown = await raw('GET', '/Calls.json');
      expect(unknown.body).toMatchObject({ code: 20404, status: 404 });
      const res = await fetch(`${double.url}/2010-04-01/Accounts/${account.sid}.json`, {
        method: 'PUT',
      });
      expect(res.headers.get('allow')).toBe('GET, POST');
      expect(await res.json()).toMatchObject({ code: 20004, status: 405 });
      expect(res.status).toBe(405);
    });
  });
});

describe('the documents the double serves', () => {
  const shared = resolve(__dirname, '..', '..', '..', 'shared', 'twilio');

  it.each(DOCUMENTS.map((file) => [basename(file), file]))(
    '%s is identical to its original in ../shared/twilio',
    (name, file) => {
      if (!existsSync(shared)) return; // a checkout without the shared folder beside it
      expect(readFileSync(file, 'utf8')).toBe(readFileSync(resolve(shared, name), 'utf8'));
    },
  );

  describe('several documents', () => {
    const dir = mkdtempSync(join(tmpdir(), 'twilio-double-openapi-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, doc: object) => {
      const file = join(dir, name);
      writeFileSync(file, JSON.stringify(doc));
      return file;
    };
    const widgets = write('widgets_v1.openapi.json', {
      paths: {
        '/v1/Widgets/{Sid}': {
          get: {
            operationId: 'FetchWidget',
            parameters: [
              {
                name: 'Sid',
                in: 'path',
                required: true,
                schema: { $ref: '#/components/schemas/sid' },
              },
              { name: 'Detail', in: 'query', schema: { type: 'boolean' } },
            ],
          },
        },
      },
      components: { schemas: { sid: { type: 'string', pattern: '^WG[0-9a-f]{32}$' } } },
    });

    it('routes and validates each operation by its own document', () => {
      const index = OpenApiIndex.load([...DOCUMENTS, widgets]);
      const sid = `WG${'a'.repeat(32)}`;
      const route = index.match('GET', `/v1/Widgets/${sid}`);
      expect(route).toMatchObject({ kind: 'operation', pathParams: { Sid: sid } });
      const op = route.kind === 'operation' ? route.op : undefined;
      expect(op).toMatchObject({ operationId: 'FetchWidget', accountParam: undefined });
      expect(op?.pathParams[0].schema.pattern).toBe('^WG[0-9a-f]{32}$');
      expect(index.validate(op!, new Map([['Detail', ['maybe']]]), new Map())).toMatchObject({
        kind: 'invalid',
        param: 'Detail',
      });
      expect(index.match('GET', '/2010-04-01/Accounts/AC1.json')).toMatchObject({
        kind: 'operation',
        op: { operationId: 'FetchAccount', accountParam: 'Sid' },
      });
    });

    it('refuses a path two documents define', () => {
      expect(() => OpenApiIndex.load([widgets, widgets])).toThrow(
        /\/v1\/Widgets\/\{Sid\} is defined twice/,
      );
    });
  });
});
