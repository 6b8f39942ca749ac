import request from 'supertest';
import { DataSource } from 'typeorm';
import { ApiKeysService } from '../src/modules/organizations/api-keys.service';
import { authed, expectError, startTestApp, TestApp } from './support/test-app';

describe('platform: health, auth, errors, docs', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('GET /api/health answers ok without a key', async () => {
    const res = await request(t.http).get('/api/health').expect(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  describe('API key guard', () => {
    it('refuses a missing key with 401 in the contract shape', async () => {
      const res = await request(t.http).get('/api/chatbots').expect(401);
      expectError(res.body, 401, 'UNAUTHORIZED');
    });

    it('refuses a malformed or unknown key', async () => {
      await request(t.http).get('/api/chatbots').set('Authorization', 'Bearer nope').expect(401);
      const { apiKey } = await t.createOrganization();
      const forged = apiKey.slice(0, -4) + 'AAAA';
      await request(t.http)
        .get('/api/chatbots')
        .set('Authorization', `Bearer ${forged}`)
        .expect(401);
      await request(t.http).get('/api/chatbots').set('Authorization', apiKey).expect(401);
    });

    it('accepts a valid key and refuses it once revoked', async () => {
      const { apiKey } = await t.createOrganization();
      await authed(t.http, apiKey).get('/api/chatbots').expect(200);
      await t.running.app.get(ApiKeysService).revoke(apiKey);
      const res = await authed(t.http, apiKey).get('/api/chatbots').expect(401);
      expectError(res.body, 401, 'UNAUTHORIZED');
    });

    it('stores only a hash of the key', async () => {
      const { apiKey } = await t.createOrganization();
      const rows: unknown[] = await t.running.app
        .get(DataSource)
        .query("SELECT prefix, encode(hash, 'hex') AS hash FROM api_keys");
      expect(JSON.stringify(rows)).not.toContain(apiKey);
      expect(JSON.stringify(rows)).not.toContain(apiKey.split('_').pop());
    });
  });

  describe('error shape', () => {
    it('unknown routes answer 404 NOT_FOUND', async () => {
      const res = await request(t.http).get('/api/does-not-exist').expect(404);
      expectError(res.body, 404, 'NOT_FOUND');
    });

    it('malformed JSON answers 400 MALFORMED_BODY', async () => {
      const { apiKey } = await t.createOrganization();
      const res = await authed(t.http, apiKey)
        .post('/api/chatbots')
        .set('Content-Type', 'application/json')
        .send('{"name": ')
        .expect(400);
      expectError(res.body, 400, 'MALFORMED_BODY');
    });

    it('a JSON body over 100 kB answers 413 PAYLOAD_TOO_LARGE', async () => {
      const { apiKey } = await t.createOrganization();
      const res = await authed(t.http, apiKey)
        .post('/api/chatbots')
        .send({ name: 'x', systemPrompt: 'a'.repeat(110 * 1024) })
        .expect(413);
      expectError(res.body, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('a form body over 64 kB answers 413', async () => {
      const res = await request(t.http)
        .post('/api/webhooks/twilio/sms')
        .type('form')
        .send({ Body: 'a'.repeat(70 * 1024) })
        .expect(413);
      expectError(res.body, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('class-validator failures answer 400 VALIDATION_FAILED with per-field details', async () => {
      const { apiKey } = await t.createOrganization();
      const res = await authed(t.http, apiKey)
        .post('/api/chatbots')
        .send({ name: 42, extra: true })
        .expect(400);
      expectError(res.body, 400, 'VALIDATION_FAILED');
      const fields = (res.body.details as { field: string }[]).map((d) => d.field).sort();
      expect(fields).toEqual(['extra', 'name']);
    });
  });

  it('serves the OpenAPI document with bearer auth declared, and Swagger UI', async () => {
    const res = await request(t.http).get('/api/docs-json').expect(200);
    expect(res.body.components.securitySchemes.bearer).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    );
    expect(Object.keys(res.body.paths)).toContain('/api/health');
    const webhook = res.body.paths['/api/webhooks/twilio/sms'].post;
    expect(Object.keys(webhook.responses)).toEqual(expect.arrayContaining(['200', '403', '503']));
    expect(webhook.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'X-Twilio-Signature', in: 'header' }),
      ]),
    );
    // The webhook authenticates by signature, not bearer; dashboard routes need the bearer key.
    expect(webhook.security).toEqual([{}]);
    expect(res.body.paths['/api/chatbots'].get.security).toEqual([{ bearer: [] }]);
    await request(t.http).get('/api/docs').expect(200).expect('Content-Type', /html/);
  });

  it('sets helmet security headers', async () => {
    const res = await request(t.http).get('/api/health');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('never logs the Authorization header', async () => {
    const { apiKey } = await t.createOrganization();
    await authed(t.http, apiKey).get('/api/chatbots');
    expect(t.logs.join('')).not.toContain(apiKey);
  });

  it('logs each request with its method, path and status, without response headers', async () => {
    const { apiKey } = await t.createOrganization();
    await authed(t.http, apiKey).get('/api/chatbots?limit=5').expect(200);
    const line = t.logs
      .map((raw) => JSON.parse(raw) as { msg?: string; req?: { url?: string }; res?: unknown })
      .filter((entry) => entry.msg === 'request completed' && entry.req?.url === '/api/chatbots')
      .pop();
    expect(line).toMatchObject({ req: { method: 'GET' }, res: { statusCode: 200 } });
    expect(line?.res).toEqual({ statusCode: 200 });
  });
});
