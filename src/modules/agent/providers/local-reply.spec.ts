import type { SearchTerm } from '../knowledge/search-terms';
import { CandidatePassage, composeLocalReply, LOCAL_REPLY_TARGET_CHARS } from './local-reply';

// Stands in for PostgreSQL's 'simple' configuration: lowercase words.
const words = (text: string): string[] => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
const exact = (...lexemes: string[]): SearchTerm[] =>
  lexemes.map((lexeme) => ({ lexeme, prefix: false }));

function passage(
  passageId: string,
  sentences: string[],
  { documentId = 'doc-' + passageId, position = 0, rank = 0.1 } = {},
): CandidatePassage {
  return {
    passageId,
    documentId,
    position,
    rank,
    sentences: sentences.map((text) => ({ text, lexemes: words(text) })),
  };
}

const passwords = passage('p1', [
  'Our accounts are protected with two-factor authentication.',
  'Reset your password from the settings page.',
  'Passwords must have at least 12 characters.',
  'Contact support if you are locked out.',
]);
const billing = passage('p2', [
  'Invoices are sent on the first day of every month.',
  'You can pay by card or bank transfer.',
]);

describe('composeLocalReply', () => {
  it('answers nothing when no passage matches a term', () => {
    expect(composeLocalReply(exact('weather', 'mars'), [passwords, billing])).toEqual({
      text: '',
      usedPassages: [],
    });
    expect(composeLocalReply(exact(), [passwords])).toEqual({ text: '', usedPassages: [] });
    expect(composeLocalReply(exact('reset'), [])).toEqual({ text: '', usedPassages: [] });
  });

  it('quotes the most relevant sentence of the best passage', () => {
    const reply = composeLocalReply(exact('reset', 'password'), [billing, passwords]);
    expect(reply).toEqual({
      text: 'Reset your password from the settings page.',
      usedPassages: [{ documentId: 'doc-p1', passageId: 'p1' }],
    });
  });

  it('adds a second matching sentence of the best passage', () => {
    const reply = composeLocalReply(exact('password', 'locked'), [passwords]);
    expect(reply.text).toBe(
      'Reset your password from the settings page. Contact support if you are locked out.',
    );
  });

  it('ranks passages by distinct terms covered before full-text rank', () => {
    const repetitive = passage('p3', ['Password password password, the password.'], { rank: 0.9 });
    const reply = composeLocalReply(exact('reset', 'password'), [repetitive, passwords]);
    expect(reply.usedPassages[0].passageId).toBe('p1');
  });

  it('adds the best sentence of another passage when it covers a term the first part misses', () => {
    const reply = composeLocalReply(exact('reset', 'password', 'invoices'), [passwords, billing]);
    expect(reply.text).toBe(
      'Reset your password from the settings page.\n\nInvoices are sent on the first day of every month.',
    );
    expect(reply.usedPassages.map((p) => p.passageId)).toEqual(['p1', 'p2']);
  });

  it('does not add another passage that only repeats covered terms', () => {
    const more = passage('p3', ['Choose a long password you do not use elsewhere.']);
    const reply = composeLocalReply(exact('reset', 'password'), [passwords, more]);
    expect(reply.usedPassages.map((p) => p.passageId)).toEqual(['p1']);
  });

  it('prefers real sentences over headings, and follows a heading that is the only match', () => {
    const withHeading = passage('p4', ['## Password reset', 'Open Settings and choose Security.']);
    expect(composeLocalReply(exact('password', 'reset'), [withHeading]).text).toBe(
      '## Password reset\nOpen Settings and choose Security.',
    );

    const hours = passage('p5', [
      'Opening hours',
      'Monday to Friday 9 to 17.',
      'Saturday 10 to 14.',
      'Our shop is in the city centre.',
    ]);
    expect(composeLocalReply(exact('opening', 'hours'), [hours]).text).toBe(
      'Opening hours\nMonday to Friday 9 to 17. Saturday 10 to 14.',
    );

    const mixed = passage('p6', ['Refunds', 'Refunds are paid within 14 days.']);
    expect(composeLocalReply(exact('refunds'), [mixed]).text).toBe(
      'Refunds are paid within 14 days.',
    );
  });

  it('quotes the lines a sentence ending in a colon introduces', () => {
    const steps = passage('p7', [
      'To reset your password:',
      '- open Settings',
      '- click Reset password',
      '- follow the link in the email',
    ]);
    expect(composeLocalReply(exact('reset'), [steps]).text).toBe(
      'To reset your password:\n- open Settings\n- click Reset password',
    );
  });

  it('matches prefix terms against longer lexemes', () => {
    const refunds = passage('p10', ['Refunds are paid within 14 days.']);
    expect(composeLocalReply(exact('refund'), [refunds]).text).toBe('');
    expect(composeLocalReply([{ lexeme: 'refund', prefix: true }], [refunds]).text).toBe(
      'Refunds are paid within 14 days.',
    );
  });

  it('is deterministic: ties go to document, then position, then passage id', () => {
    const a = passage('pa', ['Shipping takes two days.'], { documentId: 'doc-b', position: 0 });
    const b = passage('pb', ['Shipping is free over 50 EUR.'], {
      documentId: 'doc-a',
      position: 3,
    });
    const c = passage('pc', ['Shipping to Finland is possible.'], {
      documentId: 'doc-a',
      position: 1,
    });
    for (const order of [
      [a, b, c],
      [c, b, a],
      [b, a, c],
    ]) {
      expect(composeLocalReply(exact('shipping'), order)).toEqual({
        text: 'Shipping to Finland is possible.',
        usedPassages: [{ documentId: 'doc-a', passageId: 'pc' }],
      });
    }
  });

  it('stays near the target length, always keeping the best sentence', () => {
    const long = 'Password rules are long. '.repeat(40).trim();
    const huge = passage('p8', [long, 'Password resets happen in settings.']);
    const reply = composeLocalReply(exact('password'), [huge]);
    expect(reply.text).toBe(long);

    const medium = 'x '.repeat(200) + 'password.';
    const two = passage('p9', [
      medium,
      'Another password sentence that would overflow the target.',
    ]);
    expect(composeLocalReply(exact('password'), [two]).text.length).toBeLessThanOrEqual(
      LOCAL_REPLY_TARGET_CHARS,
    );
  });
});
