/**
 * Hostile input (test/support/hostile-input.ts holds the properties every request is held to).
 * Path ids (malformed, unknown, another organization's), query parameters, Authorization
 * headers, oversized headers and unknown routes.
 */
import fc from 'fast-check';
import {
  hostileCursor,
  hostileLimit,
  malformedPathId,
  nastyString,
  percentEncodeBytes,
  unknownUuid,
} from './support/fuzz-arbitraries';
import {
  API_ENDPOINTS,
  contractProblems,
  describeExchange,
  type Endpoint,
  errorBody,
  expectHandled,
  fx,
  jsonHeaders,
  pathFor,
  send,
  useHostileInputApp,
  WITH_IDS,
} from './support/hostile-input';

describe('hostile input (property-based, seeded): paths-headers', () => {
  useHostileInputApp('paths-headers');

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
});
