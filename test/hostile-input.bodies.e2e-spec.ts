/**
 * Hostile input (test/support/hostile-input.ts holds the properties every request is held to).
 * Bodies: JSON objects, malformed JSON, content types and encodings, sizes and nesting.
 */
import fc from 'fast-check';
import twilio from 'twilio';
import {
  formBody,
  hostileJsonValue,
  hostileKey,
  jsonObjectText,
  malformedJsonText,
  rawBodyBytes,
} from './support/fuzz-arbitraries';
import {
  authFor,
  contractProblems,
  describeExchange,
  type Endpoint,
  ENDPOINTS,
  errorBody,
  expectHandled,
  FORM_LIMIT_BYTES,
  fx,
  JSON_LIMIT_BYTES,
  jsonHeaders,
  pathFor,
  send,
  useHostileInputApp,
  WITH_BODY,
} from './support/hostile-input';
import { randomMessageSid, randomNumber } from './support/sms-fixtures';
import { TEST_PUBLIC_BASE_URL } from './support/test-app';

describe('hostile input (property-based, seeded): bodies', () => {
  useHostileInputApp('bodies');

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

    it('every route but the webhooks answers 415 UNSUPPORTED_MEDIA_TYPE to a body that is not declared JSON', async () => {
      const failures: string[] = [];
      const valid = (endpoint: Endpoint) => JSON.stringify(endpoint.valid?.() ?? { name: 'Bot' });
      for (const endpoint of ENDPOINTS.filter((e) => e.access !== 'webhook'))
        for (const type of [
          undefined,
          'text/plain;charset=UTF-8',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/merge-patch+json',
          'application/xml',
        ]) {
          const request = {
            method: endpoint.method,
            path: pathFor(endpoint),
            headers: { ...authFor(endpoint), ...(type ? { 'content-type': type } : {}) },
            // A JSON text the endpoint would accept: only the declared type is wrong.
            body: type === 'application/x-www-form-urlencoded' ? 'name=Bot' : valid(endpoint),
          };
          const response = await send(request);
          if (response.status !== 415 || errorBody(response).code !== 'UNSUPPORTED_MEDIA_TYPE')
            failures.push(describeExchange(request, response));
        }
      expect(failures).toEqual([]);
    });

    it('application/json with or without a charset is accepted', async () => {
      const endpoint = ENDPOINTS.find((e) => e.name === 'create chatbot')!;
      for (const type of [
        'application/json',
        'application/json; charset=utf-8',
        'Application/JSON',
      ])
        expect(
          (
            await send({
              method: 'POST',
              path: pathFor(endpoint),
              headers: { ...authFor(endpoint), 'content-type': type },
              body: '{"name":"Typed"}',
            })
          ).status,
        ).toBe(201);
    });

    it('the webhooks keep their form rule: a signed form post is accepted', async () => {
      const params: Record<string, string> = {
        MessageSid: randomMessageSid(),
        AccountSid: fx.channel.accountSid,
        From: randomNumber(),
        To: fx.channel.phoneNumber,
        Body: 'Hello',
      };
      const response = await send({
        method: 'POST',
        path: '/api/webhooks/twilio/sms',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilio.getExpectedTwilioSignature(
            fx.channel.authToken,
            `${TEST_PUBLIC_BASE_URL}/api/webhooks/twilio/sms`,
            params,
          ),
        },
        body: formBody(Object.entries(params)),
      });
      expect(response.status).toBe(200);
    });

    it('a body with a broken or unknown Content-Encoding answers 4xx in the contract shape', async () => {
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

    it('a form body just over 64 kB answers 413 on the webhooks (signed or not) and 415 elsewhere', async () => {
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
          status: endpoint.access === 'webhook' ? 413 : 415,
        });
      }
    });

    const DEPTH = 10_000;
    const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

    it('10,000 levels of nesting (within the size limit) on every endpoint: a 4xx, never a 5xx', async () => {
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
});
