import { classifyKeyword, OPT_OUT_KEYWORDS } from './sms-keywords';

describe('classifyKeyword', () => {
  it.each(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'REVOKE'])(
    'classifies %s as opt-out',
    (keyword) => {
      expect(classifyKeyword(keyword)).toBe('opt-out');
    },
  );

  it.each(['START', 'YES', 'UNSTOP'])('classifies %s as opt-in', (keyword) => {
    expect(classifyKeyword(keyword)).toBe('opt-in');
  });

  it.each(['HELP', 'INFO'])('classifies %s as help', (keyword) => {
    expect(classifyKeyword(keyword)).toBe('help');
  });

  it("lists Twilio's default opt-out keywords, OPTOUT and REVOKE (since 14 May 2025) included", () => {
    expect([...OPT_OUT_KEYWORDS].sort()).toEqual(
      ['CANCEL', 'END', 'OPTOUT', 'QUIT', 'REVOKE', 'STOP', 'STOPALL', 'UNSUBSCRIBE'].sort(),
    );
  });

  it('is case-insensitive', () => {
    expect(classifyKeyword('stop')).toBe('opt-out');
    expect(classifyKeyword('Stop')).toBe('opt-out');
    expect(classifyKeyword('sToPaLl')).toBe('opt-out');
    expect(classifyKeyword('optout')).toBe('opt-out');
    expect(classifyKeyword('Revoke.')).toBe('opt-out');
    expect(classifyKeyword('yes')).toBe('opt-in');
    expect(classifyKeyword('Help')).toBe('help');
  });

  it('tolerates surrounding whitespace and trailing punctuation', () => {
    expect(classifyKeyword('  STOP \n')).toBe('opt-out');
    expect(classifyKeyword('Stop.')).toBe('opt-out');
    expect(classifyKeyword('STOP!')).toBe('opt-out');
    expect(classifyKeyword('stop!!! ')).toBe('opt-out');
    expect(classifyKeyword('Yes!')).toBe('opt-in');
    expect(classifyKeyword('help?')).toBe('help');
    expect(classifyKeyword('\u00a0Unsubscribe\u2026')).toBe('opt-out');
  });

  it('folds full-width letters', () => {
    expect(classifyKeyword('ＳＴＯＰ')).toBe('opt-out');
  });

  it('ignores keywords inside a sentence', () => {
    expect(classifyKeyword("please don't stop")).toBeNull();
    expect(classifyKeyword('stop sending me messages')).toBeNull();
    expect(classifyKeyword('Yes please')).toBeNull();
    expect(classifyKeyword('I need help')).toBeNull();
    expect(classifyKeyword('STOP STOP')).toBeNull();
  });

  it('does not match keyword prefixes, suffixes or leading punctuation', () => {
    expect(classifyKeyword('STOPPED')).toBeNull();
    expect(classifyKeyword('OPT OUT')).toBeNull();
    expect(classifyKeyword('revoked')).toBeNull();
    expect(classifyKeyword('Yesterday')).toBeNull();
    expect(classifyKeyword('ending')).toBeNull();
    expect(classifyKeyword('S T O P')).toBeNull();
    expect(classifyKeyword('"stop"')).toBeNull();
  });

  it('returns null for empty or ordinary messages', () => {
    expect(classifyKeyword('')).toBeNull();
    expect(classifyKeyword('   ')).toBeNull();
    expect(classifyKeyword('!')).toBeNull();
    expect(classifyKeyword('What are your opening hours?')).toBeNull();
  });

  describe('with Twilio OptOutType', () => {
    it('lets OptOutType win over the body', () => {
      expect(classifyKeyword('arrêt', 'STOP')).toBe('opt-out');
      expect(classifyKeyword('STOP', 'START')).toBe('opt-in');
      expect(classifyKeyword('hello', 'HELP')).toBe('help');
    });

    it('is case-insensitive and whitespace-tolerant', () => {
      expect(classifyKeyword('whatever', 'stop')).toBe('opt-out');
      expect(classifyKeyword('whatever', ' Start ')).toBe('opt-in');
      expect(classifyKeyword('whatever', 'help')).toBe('help');
    });

    it('falls back to the body when OptOutType is empty or unrecognised', () => {
      expect(classifyKeyword('STOP', '')).toBe('opt-out');
      expect(classifyKeyword('STOP', 'SOMETHING')).toBe('opt-out');
      expect(classifyKeyword('hello', 'SOMETHING')).toBeNull();
      expect(classifyKeyword('INFO', undefined)).toBe('help');
    });
  });
});
