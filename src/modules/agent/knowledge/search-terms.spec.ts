import { quoteLexeme, searchTerms, termMatches, toOrTsQuery } from './search-terms';

const lexemesOf = (terms: { lexeme: string }[]): string[] => terms.map((term) => term.lexeme);

describe('searchTerms', () => {
  it("drops English function words under the 'simple' configuration only", () => {
    const lexemes = ['how', 'do', 'i', 'reset', 'my', 'password'];
    expect(lexemesOf(searchTerms(lexemes, 'simple'))).toEqual(['reset', 'password']);
    expect(lexemesOf(searchTerms(lexemes, 'finnish'))).toEqual(lexemes);
  });

  it("matches by prefix under 'simple' (no stemming), from three characters", () => {
    expect(searchTerms(['refund', 'tv'], 'simple')).toEqual([
      { lexeme: 'refund', prefix: true },
      { lexeme: 'tv', prefix: false },
    ]);
    expect(searchTerms(['refund'], 'english')).toEqual([{ lexeme: 'refund', prefix: false }]);
  });

  it('deduplicates, keeping first-seen order', () => {
    expect(lexemesOf(searchTerms(['refund', 'order', 'refund'], 'english'))).toEqual([
      'refund',
      'order',
    ]);
  });

  it('may leave nothing to search for', () => {
    expect(searchTerms(['how', 'are', 'you'], 'simple')).toEqual([]);
  });
});

describe('termMatches', () => {
  it('compares exactly, or as a prefix', () => {
    expect(termMatches({ lexeme: 'refund', prefix: false }, 'refunds')).toBe(false);
    expect(termMatches({ lexeme: 'refund', prefix: false }, 'refund')).toBe(true);
    expect(termMatches({ lexeme: 'refund', prefix: true }, 'refunds')).toBe(true);
    expect(termMatches({ lexeme: 'refund', prefix: true }, 'fund')).toBe(false);
  });
});

describe('toOrTsQuery', () => {
  it('ORs quoted lexemes, prefix terms with :*', () => {
    expect(
      toOrTsQuery([
        { lexeme: 'reset', prefix: false },
        { lexeme: 'password', prefix: true },
      ]),
    ).toBe("'reset' | 'password':*");
  });

  it('is null without terms', () => {
    expect(toOrTsQuery([])).toBeNull();
  });

  it('escapes quotes and backslashes so a lexeme cannot change the query', () => {
    expect(quoteLexeme("it's")).toBe("'it''s'");
    expect(quoteLexeme('a\\b')).toBe("'a\\\\b'");
    expect(quoteLexeme("x' | 'y")).toBe("'x'' | ''y'");
  });
});
