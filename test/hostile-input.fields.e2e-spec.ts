/**
 * Hostile input (test/support/hostile-input.ts holds the properties every request is held to).
 * Field values: wrong types, string limits in UTF-16 code units, Unicode, SQL- and HTML-looking
 * strings and NUL bytes, stored as sent or refused; a connect refused after the probe leaves Twilio
 * as it was.
 */
import fc from 'fast-check';
import { DataSource } from 'typeorm';
import {
  asStoredByPostgres,
  jsonObjectText,
  nastyString,
  nonBooleanValue,
  nonStringValue,
  stringWithNul,
} from './support/fuzz-arbitraries';
import {
  authFor,
  contractProblems,
  ctx,
  ENDPOINTS,
  errorBody,
  expectHandled,
  type FieldType,
  fx,
  jsonHeaders,
  pathFor,
  type RawRequest,
  send,
  useHostileInputApp,
  WEBHOOK_PATH,
  WITH_BODY,
} from './support/hostile-input';
import { createChatbot, randomNumber } from './support/sms-fixtures';
import { TEST_PUBLIC_BASE_URL } from './support/test-app';

describe('hostile input (property-based, seeded): fields', () => {
  useHostileInputApp('fields');

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
    // PostgreSQL text cannot hold the NUL: the connect must fail before Twilio is changed, or
    // succeed everywhere.
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
});
