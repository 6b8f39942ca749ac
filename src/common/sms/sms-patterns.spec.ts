import { ACCOUNT_SID, E164, MESSAGE_SID, MESSAGING_SERVICE_SID } from './sms-patterns';

const hex32 = '0123456789abcdef0123456789ABCDEF';

describe('SMS patterns', () => {
  it.each(['+358401234567', '+1234567', '+123456789012345'])('E164 accepts %s', (n) =>
    expect(E164.test(n)).toBe(true),
  );
  it.each(['358401234567', '+0123456789', '+123456', '+1234567890123456', '+1 555 0100', ''])(
    'E164 refuses %p',
    (n) => expect(E164.test(n)).toBe(false),
  );

  it('tells the SIDs apart by prefix and length', () => {
    expect(ACCOUNT_SID.test(`AC${hex32}`)).toBe(true);
    expect(MESSAGING_SERVICE_SID.test(`MG${hex32}`)).toBe(true);
    expect(MESSAGE_SID.test(`SM${hex32}`)).toBe(true);
    expect(MESSAGE_SID.test(`MM${hex32}`)).toBe(true);
    expect(ACCOUNT_SID.test(`MG${hex32}`)).toBe(false);
    expect(MESSAGING_SERVICE_SID.test(`AC${hex32}`)).toBe(false);
    expect(MESSAGE_SID.test(`AC${hex32}`)).toBe(false);
    expect(ACCOUNT_SID.test(`AC${hex32}0`)).toBe(false);
    expect(ACCOUNT_SID.test(`AC${hex32.slice(1)}g`)).toBe(false);
  });
});
