import { rewriteUri } from './rewriting-request-client';

describe('rewriteUri', () => {
  it('rewrites Twilio API hosts and refuses others', () => {
    expect(
      rewriteUri('https://api.twilio.com/2010-04-01/Accounts/AC1.json', 'http://127.0.0.1:1'),
    ).toBe('http://127.0.0.1:1/2010-04-01/Accounts/AC1.json');
    expect(rewriteUri('https://messaging.twilio.com/v1/Services', 'http://127.0.0.1:1')).toBe(
      'http://127.0.0.1:1/v1/Services',
    );
    expect(
      rewriteUri('https://accounts.twilio.com/v1/AuthTokens/Promote', 'http://127.0.0.1:1'),
    ).toBe('http://127.0.0.1:1/v1/AuthTokens/Promote');
    expect(() => rewriteUri('https://accounts.example.com/x', 'http://127.0.0.1:1')).toThrow(
      /refusing/,
    );
    expect(() => rewriteUri('https://example.com/x', 'http://127.0.0.1:1')).toThrow(/refusing/);
  });
});
