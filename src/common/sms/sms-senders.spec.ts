import { isReplyableSender, isStorableSender } from './sms-senders';

const OURS = '+358401234567';

describe('isReplyableSender', () => {
  it('answers a customer number in E.164', () => {
    expect(isReplyableSender('+358501234567', OURS)).toBe(true);
    expect(isReplyableSender('+14155550123', OURS)).toBe(true);
  });

  it('never answers our own number (the bot would text itself)', () => {
    expect(isReplyableSender(OURS, OURS)).toBe(false);
  });

  it.each(['72345', '22395', '898932'])('never answers the short code %s', (from) => {
    expect(isReplyableSender(from, OURS)).toBe(false);
  });

  it.each(['VERIFY', 'Telia', 'MyBank 24', 'DHL-Express'])(
    'never answers the alphanumeric sender %s',
    (from) => {
      expect(isReplyableSender(from, OURS)).toBe(false);
    },
  );

  it('never answers what is not a whole E.164 number', () => {
    expect(isReplyableSender('358501234567', OURS)).toBe(false);
    expect(isReplyableSender('+358 50 1234567', OURS)).toBe(false);
    expect(isReplyableSender('whatsapp:+358501234567', OURS)).toBe(false);
    expect(isReplyableSender('', OURS)).toBe(false);
  });
});

describe('isStorableSender', () => {
  it.each(['+358501234567', '72345', 'VERIFY', 'MyBank 24', 'whatsapp:+358501234567'])(
    'stores %s as Twilio signed it',
    (from) => {
      expect(isStorableSender(from)).toBe(true);
    },
  );

  it('refuses an empty or blank value, control characters and absurd lengths', () => {
    expect(isStorableSender('')).toBe(false);
    expect(isStorableSender('   ')).toBe(false);
    expect(isStorableSender('+1555\u0000')).toBe(false);
    expect(isStorableSender('VERI\nFY')).toBe(false);
    expect(isStorableSender('x'.repeat(65))).toBe(false);
    expect(isStorableSender('x'.repeat(64))).toBe(true);
  });
});
