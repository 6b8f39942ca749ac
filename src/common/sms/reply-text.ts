/**
 * Twilio rejects bodies over 1,600 characters (error 21617). Twilio does not say how it
 * counts, so lengths here are UTF-16 code units (`string.length`): that is never less than
 * the code point count, so a body that fits here fits Twilio however it counts.
 */
export const TWILIO_MAX_BODY_CHARS = 1600;

// Three dots, not U+2026: "…" is outside GSM-7 and would turn the whole reply into UCS-2.
const ELLIPSIS = '...';
// How far back from the limit a word boundary is worth looking for; past that a hard cut
// loses less text than the word-boundary cut would.
const WORD_BOUNDARY_WINDOW = 200;

// Private-use characters mark spans (code, URLs) that emphasis stripping must not touch.
const PLACEHOLDER_OPEN = '\uE000';
const PLACEHOLDER_CLOSE = '\uE001';
const PLACEHOLDER_CHARS = /[\uE000\uE001]/g;
const PLACEHOLDER = /\uE000(\d+)\uE001/g;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const FENCED_CODE_BLOCK = /^[ \t]*(`{3,}|~{3,})[^\n]*\n([\s\S]*?)^[ \t]*\1[ \t]*$/gm;
const STRAY_FENCE_LINE = /^[ \t]*(?:`{3,}|~{3,})[^\n]*(?:\n|$)/gm;
const INLINE_CODE = /(`{1,2})(?!`)([^\n]+?)\1(?!`)/g;
const LINK = /(!?)\[([^\]\n]*)\]\(\s*<?([^\s<>()]+)>?(?:\s+(?:"[^"\n]*"|'[^'\n]*'))?\s*\)/g;
const AUTOLINK = /<((?:https?:\/\/|mailto:)[^\s<>]+)>/gi;
// Trailing punctuation is left out so "see https://x.io." keeps its full stop outside the URL.
const BARE_URL = /\bhttps?:\/\/[^\s<>()*\uE000\uE001]*[^\s<>()*.,;:!?'"_\uE000\uE001]/gi;
// A backslash-escaped marker is literal text to the model that wrote it ("\*" means "*").
const ESCAPED_PUNCTUATION = /\\([\\`*_{}[\]()#+\-.!~>|])/g;

const HORIZONTAL_RULE = /^[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const HEADING = /^[ \t]{0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const BLOCKQUOTE = /^[ \t]{0,3}>[ \t]?/;
const BULLET = /^([ \t]*)[-*+][ \t]+/;

// `**` may sit inside a word (CommonMark allows it); `_`, `__` and single `*` must not, so
// snake_case names and arithmetic like 2*3*4 survive.
const STRONG_STARS = /\*\*(?=[^\s*])(.*?[^\s*])\*\*/g;
const STRONG_UNDERSCORES = /(?<![\p{L}\p{N}_])__(?=[^\s_])(.*?[^\s_])__(?![\p{L}\p{N}_])/gu;
const STRIKETHROUGH = /~~(?=\S)(.*?\S)~~/g;
const EM_STAR = /(?<![\p{L}\p{N}*])\*(?=[^\s*])(.*?[^\s*])\*(?![\p{L}\p{N}*])/gu;
const EM_UNDERSCORE = /(?<![\p{L}\p{N}_])_(?=[^\s_])(.*?[^\s_])_(?![\p{L}\p{N}_])/gu;

/** Replaces unpaired surrogates, which carriers cannot encode, with U+FFFD. */
function toWellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

function stripLineMarkdown(line: string): string {
  if (HORIZONTAL_RULE.test(line)) return '';
  let result = line;
  // Nested quotes ("> > text") carry one marker per level.
  while (BLOCKQUOTE.test(result)) result = result.replace(BLOCKQUOTE, '');
  const heading = HEADING.exec(result);
  if (heading) return heading[1] ?? '';
  return result.replace(BULLET, '$1- ');
}

function stripEmphasis(text: string): string {
  // Repeated because markers nest (***x***, **_x_**) and each pass peels one layer.
  let previous: string;
  let result = text;
  do {
    previous = result;
    result = result
      .replace(STRONG_STARS, '$1')
      .replace(STRONG_UNDERSCORES, '$1')
      .replace(STRIKETHROUGH, '$1')
      .replace(EM_STAR, '$1')
      .replace(EM_UNDERSCORE, '$1');
  } while (result !== previous);
  return result;
}

/** Turns chatbot markdown into plain SMS text. */
export function markdownToSmsText(markdown: string): string {
  const protectedSpans: string[] = [];
  const protect = (span: string): string =>
    `${PLACEHOLDER_OPEN}${protectedSpans.push(span) - 1}${PLACEHOLDER_CLOSE}`;

  let text = toWellFormed(markdown)
    .replace(/\r\n?/g, '\n')
    .replace(PLACEHOLDER_CHARS, '')
    .replace(FENCED_CODE_BLOCK, (_match, _fence: string, code: string) =>
      protect(code.replace(/\n$/, '')),
    )
    .replace(STRAY_FENCE_LINE, '')
    .replace(INLINE_CODE, (_match, _ticks: string, code: string) => protect(code.trim()))
    .replace(ESCAPED_PUNCTUATION, (_match, char: string) => protect(char))
    .replace(LINK, (_match, _bang: string, label: string, url: string) => {
      const trimmedLabel = label.trim();
      if (!trimmedLabel || trimmedLabel === url) return protect(url);
      return `${trimmedLabel} (${protect(url)})`;
    })
    .replace(AUTOLINK, (_match, url: string) => protect(url))
    .replace(BARE_URL, (url) => protect(url));

  text = text.split('\n').map(stripLineMarkdown).join('\n');
  text = stripEmphasis(text);
  text = text.replace(PLACEHOLDER, (_match, index: string) => protectedSpans[Number(index)]);

  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function isHighSurrogate(codeUnit: number): boolean {
  return codeUnit >= 0xd800 && codeUnit <= 0xdbff;
}

/**
 * Shortens well-formed text to at most `maxChars` UTF-16 code units, ending in "...".
 * Prefers the last whitespace within WORD_BOUNDARY_WINDOW of the limit so words are not
 * cut; otherwise cuts hard, stepping back one unit rather than splitting a surrogate pair.
 */
export function truncateSmsText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;

  const budget = maxChars - ELLIPSIS.length;
  if (budget <= 0) return ELLIPSIS.slice(0, maxChars);
  const windowStart = Math.max(1, budget - WORD_BOUNDARY_WINDOW);
  for (let index = budget; index >= windowStart; index -= 1) {
    if (/\s/.test(text[index])) {
      const head = text.slice(0, index).trimEnd();
      if (head) return head + ELLIPSIS;
    }
  }

  let cut = budget;
  if (cut > 0 && isHighSurrogate(text.charCodeAt(cut - 1))) cut -= 1;
  return text.slice(0, cut) + ELLIPSIS;
}

/**
 * Makes a chatbot reply safe to send as one Twilio message: plain text (markdown stripped),
 * well-formed UTF-16 and at most `maxChars` UTF-16 code units.
 */
export function fitSmsReply(text: string, maxChars: number = TWILIO_MAX_BODY_CHARS): string {
  if (!Number.isInteger(maxChars) || maxChars < 1) {
    throw new RangeError(`maxChars must be a positive integer, got ${maxChars}`);
  }
  return truncateSmsText(markdownToSmsText(text), maxChars);
}
