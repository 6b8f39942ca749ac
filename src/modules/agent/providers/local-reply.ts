/**
 * How the offline `local` provider answers: quote the most relevant sentences of the best
 * passages. Pure and deterministic; the lexemes come from PostgreSQL (see LocalAgentProvider), so
 * a sentence matches a term exactly when full-text search would.
 */
import type { AgentProviderAnswer } from '../agent-provider';
import { SearchTerm, termMatches } from '../knowledge/search-terms';

export interface CandidateSentence {
  text: string;
  /** The sentence's lexemes under the chatbot's text search configuration. */
  lexemes: readonly string[];
}

export interface CandidatePassage {
  passageId: string;
  documentId: string;
  position: number;
  /** Full-text rank; only breaks ties between passages covering as many terms. */
  rank: number;
  sentences: CandidateSentence[];
}

/** Past this length nothing more is added (the first sentence is always kept). */
export const LOCAL_REPLY_TARGET_CHARS = 600;
/** Sentences quoted from the best passage. */
const SENTENCES_FROM_BEST = 2;
/** After a heading or a line ending in ':', this many lines in total, to carry what it introduces. */
const LINES_AFTER_INTRO = 3;

interface ScoredSentence extends CandidateSentence {
  index: number;
  matched: Set<string>;
  /** A heading, label or list line rather than a sentence: weak on its own. */
  fragment: boolean;
}

interface ScoredPassage {
  passage: CandidatePassage;
  sentences: ScoredSentence[];
  covered: Set<string>;
}

const HEADING_MARK = /^\s*#{1,6}\s/;
const TERMINAL_PUNCTUATION = /[.!?…。！？]["'”’)\]]*$/;

function isFragment(text: string): boolean {
  if (HEADING_MARK.test(text)) return true;
  return !TERMINAL_PUNCTUATION.test(text.trim()) && text.trim().split(/\s+/).length < 6;
}

function introducesMore(sentence: ScoredSentence): boolean {
  return sentence.fragment || sentence.text.trimEnd().endsWith(':');
}

function score(terms: readonly SearchTerm[], passage: CandidatePassage): ScoredPassage {
  const sentences = passage.sentences.map((sentence, index) => ({
    ...sentence,
    index,
    matched: new Set(
      terms
        .filter((term) => sentence.lexemes.some((lexeme) => termMatches(term, lexeme)))
        .map((term) => term.lexeme),
    ),
    fragment: isFragment(sentence.text),
  }));
  const covered = new Set(sentences.flatMap((sentence) => [...sentence.matched]));
  return { passage, sentences, covered };
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Most distinct terms, then rank, then a stable order so equal inputs give equal replies. */
function byRelevance(a: ScoredPassage, b: ScoredPassage): number {
  return (
    b.covered.size - a.covered.size ||
    b.passage.rank - a.passage.rank ||
    compareText(a.passage.documentId, b.passage.documentId) ||
    a.passage.position - b.passage.position ||
    compareText(a.passage.passageId, b.passage.passageId)
  );
}

/** Real sentences before fragments, then more matched terms, then earlier. */
function bySentenceRelevance(a: ScoredSentence, b: ScoredSentence): number {
  return (
    Number(a.fragment) - Number(b.fragment) || b.matched.size - a.matched.size || a.index - b.index
  );
}

function chooseFromBest(passage: ScoredPassage): ScoredSentence[] {
  const ranked = passage.sentences.filter((s) => s.matched.size).sort(bySentenceRelevance);
  const best = ranked[0];
  if (introducesMore(best)) {
    return passage.sentences.slice(best.index, best.index + LINES_AFTER_INTRO);
  }
  return ranked
    .filter((sentence) => !sentence.fragment)
    .slice(0, SENTENCES_FROM_BEST)
    .sort((a, b) => a.index - b.index);
}

function join(sentences: ScoredSentence[]): string {
  return sentences
    .map((sentence, i) => {
      if (i === 0) return sentence.text;
      // Lines (headings, list items) stay lines; sentences flow as a paragraph.
      const asLine = sentence.fragment || introducesMore(sentences[i - 1]);
      return (asLine ? '\n' : ' ') + sentence.text;
    })
    .join('');
}

/**
 * The reply: the best passage's most relevant sentence (and its runner-up), plus the best
 * sentence of another passage when that covers a term the first part does not, within
 * LOCAL_REPLY_TARGET_CHARS. Empty text when no passage matches any term.
 */
export function composeLocalReply(
  terms: readonly SearchTerm[],
  passages: readonly CandidatePassage[],
): AgentProviderAnswer {
  const ranked = passages
    .map((passage) => score(terms, passage))
    .filter((passage) => passage.covered.size)
    .sort(byRelevance);
  if (!ranked.length) return { text: '', usedPassages: [] };

  const [best, ...others] = ranked;
  const parts: { passage: CandidatePassage; text: string }[] = [];
  const chosen: ScoredSentence[] = [];
  for (const sentence of chooseFromBest(best)) {
    const candidate = join([...chosen, sentence]);
    if (chosen.length && candidate.length > LOCAL_REPLY_TARGET_CHARS) break;
    chosen.push(sentence);
  }
  parts.push({ passage: best.passage, text: join(chosen) });

  const covered = new Set(chosen.flatMap((sentence) => [...sentence.matched]));
  for (const other of others) {
    const addition = other.sentences
      .filter((s) => !s.fragment && [...s.matched].some((term) => !covered.has(term)))
      .sort(bySentenceRelevance)[0];
    if (!addition) continue;
    const length = parts[0].text.length + 2 + addition.text.length;
    if (length <= LOCAL_REPLY_TARGET_CHARS) {
      parts.push({ passage: other.passage, text: addition.text });
    }
    break;
  }

  return {
    text: parts.map((part) => part.text).join('\n\n'),
    usedPassages: parts.map(({ passage }) => ({
      documentId: passage.documentId,
      passageId: passage.passageId,
    })),
  };
}
