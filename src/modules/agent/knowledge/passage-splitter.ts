/**
 * Splits knowledge documents into passages, the unit that full-text search ranks and the agent
 * quotes. Pure functions: no database, no configuration.
 */

export interface PassageSizes {
  /** Passages grow up to about this many characters before a new one starts. */
  targetChars: number;
  /** Hard upper bound; only a single over-long sentence is ever cut mid-sentence to respect it. */
  maxChars: number;
}

export const DEFAULT_PASSAGE_SIZES: PassageSizes = { targetChars: 600, maxChars: 1000 };

interface Piece {
  text: string;
  /** How the piece joins the previous one inside a passage. */
  separator: string;
}

// Sentence end: terminal punctuation, optional closing quotes/brackets, whitespace, and a next
// character that is not a lowercase letter ("e.g. this" stays one sentence). Line breaks always
// end a sentence so list items and headings stand alone.
const SENTENCE_BOUNDARY = /(?<=[.!?…。！？]["'”’)\]]*)[ \t]+(?=[^\p{Ll}])|[ \t]*\n\s*/gu;
const PARAGRAPH_BOUNDARY = /\n[ \t]*\n\s*/;

function normalize(text: string): string {
  return text.replace(/\r\n?/g, '\n').trim();
}

/** Sentences of one paragraph with the whitespace that separated them ('\n' or ' '). */
function sentencePieces(paragraph: string): Piece[] {
  const pieces: Piece[] = [];
  let start = 0;
  let separator = '';
  for (const match of paragraph.matchAll(SENTENCE_BOUNDARY)) {
    const text = paragraph.slice(start, match.index).trim();
    if (text) pieces.push({ text, separator });
    separator = match[0].includes('\n') ? '\n' : ' ';
    start = match.index + match[0].length;
  }
  const rest = paragraph.slice(start).trim();
  if (rest) pieces.push({ text: rest, separator });
  return pieces;
}

/** Splits one paragraph into its sentences (line breaks count as sentence ends). */
export function splitIntoSentences(text: string): string[] {
  return normalize(text)
    .split(PARAGRAPH_BOUNDARY)
    .flatMap((paragraph) => sentencePieces(paragraph).map((piece) => piece.text));
}

/** Cuts an over-long sentence at word boundaries (hard cut only when a word itself is too long). */
function chunkWords(text: string, maxChars: number): string[] {
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > maxChars) {
    let cut = maxChars;
    while (cut > 0 && !/\s/.test(rest[cut])) cut -= 1;
    if (cut === 0) {
      cut = maxChars;
      // Never split a surrogate pair (unless a single character is all that fits).
      const code = rest.charCodeAt(cut - 1);
      if (cut > 1 && code >= 0xd800 && code <= 0xdbff) cut -= 1;
    }
    chunks.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest) chunks.push(rest);
  return chunks;
}

/**
 * Splits a document into passages of about `targetChars` (never more than `maxChars`), on
 * paragraph boundaries first and on sentence boundaries inside paragraphs that are too long, so
 * a passage reads as a coherent piece of text. Whitespace between pieces is normalised; no other
 * text is lost or reordered.
 */
export function splitIntoPassages(text: string, sizes: Partial<PassageSizes> = {}): string[] {
  const { targetChars, maxChars } = { ...DEFAULT_PASSAGE_SIZES, ...sizes };
  if (!(targetChars >= 1 && maxChars >= targetChars)) {
    throw new RangeError(`expected 1 <= targetChars <= maxChars, got ${targetChars}/${maxChars}`);
  }

  const pieces: Piece[] = normalize(text)
    .split(PARAGRAPH_BOUNDARY)
    .filter((paragraph) => paragraph.trim())
    .flatMap((paragraph): Piece[] => {
      const whole = paragraph.trim();
      if (whole.length <= maxChars) return [{ text: whole, separator: '\n\n' }];
      return sentencePieces(whole).flatMap((sentence, index) =>
        chunkWords(sentence.text, maxChars).map((chunk, chunkIndex) => ({
          text: chunk,
          separator:
            index === 0 && chunkIndex === 0 ? '\n\n' : chunkIndex ? ' ' : sentence.separator,
        })),
      );
    });

  const passages: string[] = [];
  let current = '';
  for (const piece of pieces) {
    const joined = current ? current + piece.separator + piece.text : piece.text;
    // A small passage may grow past the target (up to the maximum) rather than leave a fragment,
    // e.g. a heading followed by a long paragraph.
    const fits =
      joined.length <= targetChars ||
      (current.length < targetChars / 2 && joined.length <= maxChars);
    if (!current || fits) {
      current = joined;
    } else {
      passages.push(current);
      current = piece.text;
    }
  }
  if (current) passages.push(current);
  return passages;
}
