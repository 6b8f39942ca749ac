import {
  fitSmsReply,
  markdownToSmsText,
  TWILIO_MAX_BODY_CHARS,
  truncateSmsText,
} from './reply-text';

const ELLIPSIS = '...';

/** mulberry32: a tiny seeded PRNG so the property-style test is reproducible. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i += 1;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return true;
    }
  }
  return false;
}

describe('markdownToSmsText', () => {
  it('strips bold, italic and strikethrough markers', () => {
    expect(markdownToSmsText('This is **bold**, *italic*, __strong__, _em_ and ~~gone~~.')).toBe(
      'This is bold, italic, strong, em and gone.',
    );
    expect(markdownToSmsText('***both*** and **_nested_**')).toBe('both and nested');
  });

  it('leaves snake_case, arithmetic and lone markers alone', () => {
    expect(markdownToSmsText('Use my_var_name, 2*3*4 = 24, and a * b')).toBe(
      'Use my_var_name, 2*3*4 = 24, and a * b',
    );
  });

  it('strips heading markers', () => {
    expect(markdownToSmsText('# Title\n\n## Sub title ##\n###### Six')).toBe(
      'Title\n\nSub title\nSix',
    );
  });

  it('does not treat a hashtag or number sign as a heading', () => {
    expect(markdownToSmsText('#1 priority and #hashtag')).toBe('#1 priority and #hashtag');
  });

  it('strips inline code backticks without touching the code', () => {
    expect(markdownToSmsText('Run `npm install` then `__init__`')).toBe(
      'Run npm install then __init__',
    );
    expect(markdownToSmsText('Type ``a `tick` here``')).toBe('Type a `tick` here');
  });

  it('keeps fenced code block content verbatim and drops the fences', () => {
    expect(markdownToSmsText('Try:\n```bash\n# not a heading\necho **hi**\n```\nDone')).toBe(
      'Try:\n# not a heading\necho **hi**\nDone',
    );
  });

  it('drops the fence of an unterminated code block', () => {
    expect(markdownToSmsText('Try:\n```js\nfoo()')).toBe('Try:\nfoo()');
  });

  it('rewrites links as "text (url)"', () => {
    expect(markdownToSmsText('See [our docs](https://example.com/docs) now')).toBe(
      'See our docs (https://example.com/docs) now',
    );
    expect(markdownToSmsText('[Pricing](https://x.io/p "Pricing page")')).toBe(
      'Pricing (https://x.io/p)',
    );
  });

  it('does not repeat a link whose text is its url, or has no text', () => {
    expect(markdownToSmsText('[https://x.io](https://x.io) and [](https://y.io)')).toBe(
      'https://x.io and https://y.io',
    );
  });

  it('unwraps autolinks and images', () => {
    expect(markdownToSmsText('Go to <https://x.io/a_b_> or ![logo](https://x.io/l.png)')).toBe(
      'Go to https://x.io/a_b_ or logo (https://x.io/l.png)',
    );
  });

  it('never strips emphasis-like characters inside urls', () => {
    expect(markdownToSmsText('[docs](https://x.io/_private_/a*b*) and https://x.io/_y_/z.')).toBe(
      'docs (https://x.io/_private_/a*b*) and https://x.io/_y_/z.',
    );
  });

  it('strips emphasis around links', () => {
    expect(markdownToSmsText('**[Book now](https://x.io/book)**')).toBe(
      'Book now (https://x.io/book)',
    );
  });

  it('normalises bullet markers to "- " and keeps numbered lists', () => {
    expect(markdownToSmsText('Options:\n* one\n+ two\n- three\n  * nested\n1. first')).toBe(
      'Options:\n- one\n- two\n- three\n  - nested\n1. first',
    );
  });

  it('strips blockquote markers and horizontal rules', () => {
    expect(markdownToSmsText('> quoted\n> > deeper\n\n---\n\nafter')).toBe(
      'quoted\ndeeper\n\nafter',
    );
  });

  it('keeps backslash-escaped markers as literal characters', () => {
    expect(markdownToSmsText('\\*not italic\\* and 5 \\* 3 and \\# tag')).toBe(
      '*not italic* and 5 * 3 and # tag',
    );
  });

  it('collapses 3+ newlines to 2, normalises CRLF and trims', () => {
    expect(markdownToSmsText('  \r\n\r\nHello  \r\n\r\n\r\n\r\nWorld\n\n\n  \n\n!  \n')).toBe(
      'Hello\n\nWorld\n\n!',
    );
  });

  it('replaces lone surrogates with U+FFFD and keeps valid pairs', () => {
    expect(markdownToSmsText('a\ud83db \ude00 😀')).toBe('a\ufffdb \ufffd 😀');
  });
});

describe('truncateSmsText', () => {
  it('returns text within the limit unchanged', () => {
    expect(truncateSmsText('hello', 5)).toBe('hello');
  });

  it('cuts at the last whitespace and appends an ellipsis', () => {
    expect(truncateSmsText('hello brave new world', 15)).toBe(`hello brave${ELLIPSIS}`);
  });

  it('uses a whitespace sitting exactly at the limit', () => {
    // Budget is 11 units; "hello brave" is 11 long and is followed by a space.
    expect(truncateSmsText('hello brave world', 14)).toBe(`hello brave${ELLIPSIS}`);
  });

  it('drops trailing whitespace before the ellipsis', () => {
    expect(truncateSmsText('hello,   \n\n  world again', 12)).toBe(`hello,${ELLIPSIS}`);
  });

  it('cuts hard when no whitespace is within the last 200 characters', () => {
    const text = 'word ' + 'x'.repeat(400);
    const result = truncateSmsText(text, 300);
    expect(result).toBe('word ' + 'x'.repeat(292) + ELLIPSIS);
    expect(result).toHaveLength(300);
  });

  it('still prefers whitespace exactly 200 characters back', () => {
    const text = 'a'.repeat(97) + ' ' + 'b'.repeat(400);
    // Budget 297; the space is at index 97 = 297 - 200.
    expect(truncateSmsText(text, 300)).toBe('a'.repeat(97) + ELLIPSIS);
  });

  it('never splits a surrogate pair on a hard cut', () => {
    const text = 'x'.repeat(8) + '😀' + 'y'.repeat(10);
    // Budget 9 would end between the two halves of the emoji.
    expect(truncateSmsText(text, 12)).toBe('x'.repeat(8) + ELLIPSIS);
    expect(truncateSmsText(text, 13)).toBe('x'.repeat(8) + '😀' + ELLIPSIS);
  });

  it('returns only the ellipsis when the limit leaves no room for text', () => {
    expect(truncateSmsText('hello', 3)).toBe(ELLIPSIS);
  });
});

describe('fitSmsReply', () => {
  it('defaults to the Twilio 1,600-character limit', () => {
    expect(TWILIO_MAX_BODY_CHARS).toBe(1600);
    const exact = 'a'.repeat(1600);
    expect(fitSmsReply(exact)).toBe(exact);

    const long = 'word '.repeat(400);
    const result = fitSmsReply(long);
    expect(result.length).toBeLessThanOrEqual(1600);
    expect(result.endsWith(`word${ELLIPSIS}`)).toBe(true);
  });

  it('measures the limit after stripping markdown', () => {
    // 12 chars of markdown, 8 chars of text.
    expect(fitSmsReply('**bold** `x`', 8)).toBe('bold x');
  });

  it('counts emoji as 2 units so Twilio limits are never exceeded', () => {
    const result = fitSmsReply('😀'.repeat(1000));
    expect(result).toBe('😀'.repeat(798) + ELLIPSIS);
    expect(result).toHaveLength(1599);
  });

  it('rejects a non-positive or fractional maxChars', () => {
    expect(() => fitSmsReply('hi', 0)).toThrow(RangeError);
    expect(() => fitSmsReply('hi', -5)).toThrow(RangeError);
    expect(() => fitSmsReply('hi', 2.5)).toThrow(RangeError);
    expect(() => fitSmsReply('hi', Number.NaN)).toThrow(RangeError);
  });

  it('always fits maxChars and never leaves a lone surrogate (seeded random inputs)', () => {
    const random = seededRandom(0x5eed);
    // Spreading a string splits it by code point, so the emoji stay whole; lone surrogates,
    // a skin-tone sequence and a URL are added separately.
    const alphabet = [
      ...'abZ1  \n\t*_#`~[]()->\\жé€😀',
      '👍🏽',
      '\ud83d',
      '\ude00',
      'https://x.io/a_b ',
    ];
    const pick = (): string => alphabet[Math.floor(random() * alphabet.length)];

    for (let run = 0; run < 2000; run += 1) {
      const length = Math.floor(random() * 600);
      let input = '';
      for (let i = 0; i < length; i += 1) input += pick();
      const maxChars = 1 + Math.floor(random() * 400);

      const output = fitSmsReply(input, maxChars);

      expect(output.length).toBeLessThanOrEqual(maxChars);
      expect(hasLoneSurrogate(output)).toBe(false);
      const last = output.charCodeAt(output.length - 1);
      expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
    }
  });
});
