/**
 * Request logging below LOG_LEVEL=info: no "request completed" line (pino-http writes it at info,
 * so nothing per request is prepared for it), yet a line the request does write carries its id.
 */
import request from 'supertest';
import { startTestApp, TestApp } from './support/test-app';

const WEBHOOK_PATH = '/api/webhooks/twilio/sms';

interface LogLine {
  msg?: string;
  level?: number;
  req?: { id?: string; method?: string; url?: string };
}

describe('request logging at LOG_LEVEL=warn', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ LOG_LEVEL: 'warn' });
  });
  afterAll(() => t?.close());

  const lines = (): LogLine[] => t.logs.map((raw) => JSON.parse(raw) as LogLine);

  it("writes a request's warning with its id, method and path, and no request line", async () => {
    await request(t.http)
      .post(`${WEBHOOK_PATH}?x=1`)
      .type('form')
      .set('X-Request-Id', 'warn-level-webhook-1')
      .send({ Body: 'hello' })
      .expect(403);
    const own = lines().filter((line) => line.req?.id === 'warn-level-webhook-1');
    expect(own.map((line) => line.msg)).toEqual(['Twilio webhook refused']);
    expect(own[0].req).toEqual({ id: 'warn-level-webhook-1', method: 'POST', url: WEBHOOK_PATH });
    expect(lines().filter((line) => line.msg === 'request completed')).toEqual([]);
  });

  it("keeps each request's id to its own lines", async () => {
    for (const id of ['warn-level-a', 'warn-level-b']) {
      await request(t.http)
        .post(WEBHOOK_PATH)
        .type('form')
        .set('X-Request-Id', id)
        .send({ Body: 'hello' })
        .expect(403);
    }
    for (const id of ['warn-level-a', 'warn-level-b']) {
      expect(t.logs.filter((raw) => raw.includes(id))).toHaveLength(1);
    }
  });
});
