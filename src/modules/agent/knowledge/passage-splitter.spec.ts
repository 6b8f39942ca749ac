import fc from 'fast-check';
import { splitIntoPassages, splitIntoSentences } from './passage-splitter';

const nonWhitespace = (text: string): string => text.replace(/\s+/g, '');

describe('splitIntoSentences', () => {
  it('splits on terminal punctuation followed by a capital, and on line breaks', () => {
    expect(
      splitIntoSentences('Reset it here. Then log in! Done? Yes.\n- first item\n- second item'),
    ).toEqual(['Reset it here.', 'Then log in!', 'Done?', 'Yes.', '- first item', '- second item']);
  });

  it('keeps abbreviations followed by lowercase words and decimals together', () => {
    expect(splitIntoSentences('Plans start at 9.50 EUR, e.g. the starter plan. Ask us.')).toEqual([
      'Plans start at 9.50 EUR, e.g. the starter plan.',
      'Ask us.',
    ]);
  });

  it('treats closing quotes and brackets as part of the sentence', () => {
    expect(splitIntoSentences('Click "Save." Then wait (about a minute.) Next step.')).toEqual([
      'Click "Save."',
      'Then wait (about a minute.)',
      'Next step.',
    ]);
  });
});

describe('splitIntoPassages', () => {
  it('returns nothing for blank text', () => {
    expect(splitIntoPassages('')).toEqual([]);
    expect(splitIntoPassages(' \n\n \t ')).toEqual([]);
  });

  it('keeps a short document as one passage', () => {
    expect(splitIntoPassages('  Reset your password from the settings page.  ')).toEqual([
      'Reset your password from the settings page.',
    ]);
  });

  it('packs paragraphs up to the target and starts a new passage at a paragraph boundary', () => {
    const a = 'A'.repeat(250);
    const b = 'B'.repeat(250);
    const c = 'C'.repeat(250);
    expect(
      splitIntoPassages(`${a}\n\n${b}\r\n\r\n${c}`, { targetChars: 600, maxChars: 1000 }),
    ).toEqual([`${a}\n\n${b}`, c]);
  });

  it('lets a heading join the paragraph it introduces, up to the maximum', () => {
    const heading = '## Passwords';
    const body = 'Reset your password from the settings page. '.repeat(16).trim();
    expect(body.length).toBeGreaterThan(600);
    expect(splitIntoPassages(`${heading}\n\n${body}`)).toEqual([`${heading}\n\n${body}`]);
  });

  it('splits an over-long paragraph on sentence boundaries', () => {
    const sentences = Array.from({ length: 30 }, (_, i) => `Sentence number ${i} is here.`);
    const passages = splitIntoPassages(sentences.join(' '), { targetChars: 100, maxChars: 150 });
    expect(passages.length).toBeGreaterThan(1);
    for (const passage of passages) {
      expect(passage.length).toBeLessThanOrEqual(150);
      expect(passage).toMatch(/^Sentence number \d+ is here\./);
      expect(passage).toMatch(/is here\.$/);
    }
    expect(passages.join(' ')).toBe(sentences.join(' '));
  });

  it('keeps line structure when a long paragraph is split', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `- item ${i} of the list`);
    const passages = splitIntoPassages(lines.join('\n'), { targetChars: 100, maxChars: 120 });
    expect(passages.join('\n')).toBe(lines.join('\n'));
  });

  it('cuts a sentence longer than the maximum at word boundaries, or hard without spaces', () => {
    const words = Array.from({ length: 100 }, (_, i) => `word${i}`).join(' ');
    const passages = splitIntoPassages(words, { targetChars: 50, maxChars: 80 });
    expect(passages.every((passage) => passage.length <= 80)).toBe(true);
    expect(passages.join(' ')).toBe(words);

    const blob = 'x'.repeat(250);
    expect(splitIntoPassages(blob, { targetChars: 50, maxChars: 100 })).toEqual([
      'x'.repeat(100),
      'x'.repeat(100),
      'x'.repeat(50),
    ]);
  });

  it('never splits a surrogate pair', () => {
    const emoji = '😀'.repeat(60);
    const passages = splitIntoPassages(emoji, { targetChars: 20, maxChars: 25 });
    expect(passages.join('')).toBe(emoji);
    expect(passages.every((passage) => !/[\uD800-\uDBFF]$/.test(passage))).toBe(true);
  });

  it('rejects inconsistent sizes', () => {
    expect(() => splitIntoPassages('x', { targetChars: 500, maxChars: 100 })).toThrow(RangeError);
  });

  it('never loses, reorders or oversizes text (property)', () => {
    const word = fc.stringMatching(/^[A-Za-zÄÖäö0-9]{1,30}$/);
    const sentence = fc
      .tuple(fc.array(word, { minLength: 1, maxLength: 40 }), fc.constantFrom('.', '!', '?', ''))
      .map(([words, end]) => words.join(' ') + end);
    const paragraph = fc
      .tuple(fc.array(sentence, { minLength: 1, maxLength: 12 }), fc.constantFrom(' ', '\n'))
      .map(([sentences, separator]) => sentences.join(separator));
    const document = fc.array(paragraph, { maxLength: 8 }).map((p) => p.join('\n\n'));
    fc.assert(
      fc.property(
        document,
        fc.integer({ min: 40, max: 700 }),
        fc.integer({ min: 0, max: 400 }),
        (text, target, extra) => {
          const maxChars = target + extra;
          const passages = splitIntoPassages(text, { targetChars: target, maxChars });
          for (const passage of passages) {
            expect(passage.length).toBeGreaterThan(0);
            expect(passage.length).toBeLessThanOrEqual(maxChars);
            expect(passage).toBe(passage.trim());
          }
          expect(nonWhitespace(passages.join(''))).toBe(nonWhitespace(text));
        },
      ),
    );
  });
});
