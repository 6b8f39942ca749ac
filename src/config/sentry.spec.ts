import * as Sentry from '@sentry/nestjs';
import type { ErrorEvent } from '@sentry/nestjs';
import { initSentry, scrubEvent, scrubValue } from './sentry';

describe('Sentry set-up', () => {
  it('stays disabled without a DSN: no client, nothing sent', () => {
    initSentry(undefined, 'test');
    expect(Sentry.getClient()).toBeUndefined();
  });

  it('scrubs credentials and message bodies from events', () => {
    const token = '0123456789abcdef0123456789abcdef';
    const apiKey = `sk_0123456789abcdef_${'A'.repeat(43)}`;
    const event = {
      message: `failed with token ${token} and key ${apiKey}`,
      request: {
        data: { authToken: token },
        headers: { authorization: `Bearer ${apiKey}` },
        url: '/api/x',
      },
      extra: {
        authToken: token,
        body: 'my secret message',
        nested: { apiKey, note: `Basic ${'QUM6dG9rZW4='}` },
      },
      tags: { feature: 'channels/sms', chatbot_id: 'b1' },
    } as unknown as ErrorEvent;
    const scrubbed = JSON.stringify(scrubEvent(event));
    expect(scrubbed).not.toContain(token);
    expect(scrubbed).not.toContain(apiKey);
    expect(scrubbed).not.toContain('my secret message');
    expect(scrubbed).not.toContain('QUM6dG9rZW4=');
    expect(scrubbed).toContain('channels/sms');
    expect(scrubbed).toContain('/api/x');
  });

  it('keeps Account SIDs and ids, which are not secrets', () => {
    const sid = 'AC0123456789abcdef0123456789abcdef';
    expect(scrubValue(`account ${sid}`)).toBe(`account ${sid}`);
  });
});
