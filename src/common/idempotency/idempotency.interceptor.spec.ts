import { requestHash } from './idempotency.interceptor';

describe('requestHash (what "the same request" means for an Idempotency-Key)', () => {
  const request = (body: unknown, originalUrl = '/api/chatbots', method = 'POST') => ({
    method,
    originalUrl,
    body,
  });

  it('ignores the order of object keys, at every level', () => {
    expect(requestHash(request({ a: 1, b: { c: 2, d: [1, 2] } }))).toBe(
      requestHash(request({ b: { d: [1, 2], c: 2 }, a: 1 })),
    );
  });

  it.each([
    ['another value', { name: 'Bot 2' }],
    ['an extra field', { name: 'Bot', language: 'english' }],
    ['another type', { name: 42 }],
    ['no body', undefined],
  ])('tells %s apart', (_case, body) => {
    expect(requestHash(request(body))).not.toBe(requestHash(request({ name: 'Bot' })));
  });

  it('tells another path, query or method apart', () => {
    const hash = requestHash(request({ name: 'Bot' }));
    expect(requestHash(request({ name: 'Bot' }, '/api/chatbots?x=1'))).not.toBe(hash);
    expect(requestHash(request({ name: 'Bot' }, '/api/chatbots', 'PUT'))).not.toBe(hash);
  });

  it('keeps array order: [1, 2] is not [2, 1]', () => {
    expect(requestHash(request({ a: [1, 2] }))).not.toBe(requestHash(request({ a: [2, 1] })));
  });
});
