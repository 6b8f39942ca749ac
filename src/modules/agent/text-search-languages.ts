/**
 * PostgreSQL text search configurations a chatbot may use (all ship with PostgreSQL and PGlite).
 * A chatbot's language reaches SQL only as a bound parameter cast to regconfig, and only after
 * it has been checked against this list.
 */
export const TEXT_SEARCH_LANGUAGES: readonly string[] = [
  'simple',
  'arabic',
  'danish',
  'dutch',
  'english',
  'finnish',
  'french',
  'german',
  'hungarian',
  'italian',
  'norwegian',
  'portuguese',
  'romanian',
  'russian',
  'spanish',
  'swedish',
  'turkish',
];

/** The configuration to search with; a value that is not allowed is a bug, never SQL. */
export function textSearchConfig(language: string): string {
  if (!TEXT_SEARCH_LANGUAGES.includes(language)) {
    throw new Error(`Unsupported text search configuration "${language}"`);
  }
  return language;
}
