/**
 * Turns a customer's question into full-text search terms and a tsquery. Pure functions; the
 * lexemes come from PostgreSQL's to_tsvector with the chatbot's configuration, so stemming and
 * the language's stop words match the passages' vectors exactly.
 */

/**
 * PostgreSQL's English stop words. Language configurations drop their own stop words, but
 * 'simple' (the default) keeps every word, so "how do I reset my password" would also match any
 * passage containing "how" or "my". Only the question is filtered; passages keep every word.
 */
const SIMPLE_CONFIG_STOP_WORDS = new Set(
  (
    'i me my myself we our ours ourselves you your yours yourself yourselves he him his himself ' +
    'she her hers herself it its itself they them their theirs themselves what which who whom ' +
    'this that these those am is are was were be been being have has had having do does did ' +
    'doing a an the and but if or because as until while of at by for with about against ' +
    'between into through during before after above below to from up down in out on off over ' +
    'under again further then once here there when where why how all any both each few more ' +
    'most other some such no nor not only own same so than too very s t can will just don ' +
    'should now'
  ).split(' '),
);

export interface SearchTerm {
  lexeme: string;
  /** Matches any lexeme starting with it (see searchTerms). */
  prefix: boolean;
}

/** Short words stay exact even under 'simple': "tv" should not find "tvs-2000". */
const PREFIX_MIN_CHARS = 3;

/**
 * Distinct search terms from the question's lexemes, in their first-seen order. Language
 * configurations stem ("refunds" and "refund" are both 'refund'); 'simple' does not, so there a
 * term matches as a prefix and "refund" still finds "refunds".
 */
export function searchTerms(lexemes: readonly string[], language: string): SearchTerm[] {
  const simple = language === 'simple';
  const terms = new Map<string, SearchTerm>();
  for (const lexeme of lexemes) {
    if (simple && SIMPLE_CONFIG_STOP_WORDS.has(lexeme)) continue;
    terms.set(lexeme, { lexeme, prefix: simple && lexeme.length >= PREFIX_MIN_CHARS });
  }
  return [...terms.values()];
}

/** Whether a lexeme of a passage or sentence matches the term, exactly as the tsquery would. */
export function termMatches(term: SearchTerm, lexeme: string): boolean {
  return term.prefix ? lexeme.startsWith(term.lexeme) : lexeme === term.lexeme;
}

/** A lexeme as tsquery input: quoted, with embedded quotes and backslashes doubled. */
export function quoteLexeme(lexeme: string): string {
  return `'${lexeme.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** One term as tsquery text. */
export function termQuery(term: SearchTerm): string {
  return quoteLexeme(term.lexeme) + (term.prefix ? ':*' : '');
}

/**
 * OR of the terms, as tsquery text. websearch_to_tsquery() on the raw question would AND every
 * word, and a passage rarely repeats all of a question's words; ranking favours passages that
 * match more of them. Null when there is nothing to search for.
 */
export function toOrTsQuery(terms: readonly SearchTerm[]): string | null {
  return terms.length ? terms.map(termQuery).join(' | ') : null;
}
