/**
 * The full-text index of knowledge passages: the one place that builds tsvectors and tsqueries.
 * Vectors use the chatbot's text search configuration, passed as a bound parameter cast to
 * regconfig (never interpolated).
 */
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { PreparedStatements } from '../../../database/prepared-statements';
import { statement } from '../../../database/statement';
import type { Chatbot } from '../chatbot.entity';
import { textSearchConfig } from '../text-search-languages';
import { SearchTerm, searchTerms, termQuery, toOrTsQuery } from './search-terms';

export interface RetrievedPassage {
  passageId: string;
  documentId: string;
  documentTitle: string;
  position: number;
  content: string;
  /** How many distinct search terms the passage contains. */
  matchedTerms: number;
  /** ts_rank_cd of the passage for the OR query. */
  rank: number;
}

/** Each text's lexemes, as the index sees them (every reply's question goes through it). */
const LEXEMES = statement<{ config: string; texts: string[] }>(
  'passage-lexemes',
  (p) => `SELECT tsvector_to_array(to_tsvector(${p.config}::regconfig, t.text)) AS lexemes
    FROM unnest(${p.texts}::text[]) WITH ORDINALITY AS t(text, ord)
    ORDER BY t.ord`,
);

/**
 * A chatbot's passages that match the OR query, best first. matched_terms counts the terms a
 * passage contains, each tested with its own tsquery so prefix terms count like the OR query
 * matches them.
 */
const SEARCH = statement<{ chatbotId: string; query: string; terms: string[]; limit: number }>(
  'passage-search',
  (
    p,
  ) => `SELECT pa.id AS passage_id, pa.document_id, d.title AS document_title, pa.position, pa.content,
      (SELECT count(*)::int FROM unnest(${p.terms}::tsquery[]) AS term
       WHERE pa.search_vector @@ term) AS matched_terms,
      ts_rank_cd(pa.search_vector, ${p.query}::tsquery) AS rank
    FROM knowledge_passages pa
    JOIN knowledge_documents d ON d.id = pa.document_id
    WHERE pa.chatbot_id = ${p.chatbotId} AND pa.search_vector @@ ${p.query}::tsquery
    ORDER BY matched_terms DESC, rank DESC, pa.document_id, pa.position
    LIMIT ${p.limit}`,
);

export interface KnowledgeSearchResult {
  /** The question's search terms (lexemes after stemming and stop words). */
  terms: SearchTerm[];
  /** Best first: most distinct terms, then rank, then document and position for stable ties. */
  passages: RetrievedPassage[];
}

interface PassageRow {
  passage_id: string;
  document_id: string;
  document_title: string;
  position: number;
  content: string;
  matched_terms: number;
  rank: number;
}

@Injectable()
export class PassageIndex {
  constructor(private readonly statements: PreparedStatements) {}

  /** Stores a document's passages, in order, with their vectors. */
  async insertPassages(
    manager: EntityManager,
    document: { id: string; chatbotId: string },
    passages: string[],
    language: string,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO knowledge_passages (document_id, chatbot_id, position, content, search_vector)
       SELECT $1, $2, t.ord - 1, t.content, to_tsvector($3::regconfig, t.content)
       FROM unnest($4::text[]) WITH ORDINALITY AS t(content, ord)`,
      [document.id, document.chatbotId, textSearchConfig(language), passages],
    );
  }

  /** Rebuilds every vector of a chatbot, after its language changed. */
  async reindexChatbot(manager: EntityManager, chatbotId: string, language: string): Promise<void> {
    await manager.query(
      `UPDATE knowledge_passages SET search_vector = to_tsvector($1::regconfig, content)
       WHERE chatbot_id = $2`,
      [textSearchConfig(language), chatbotId],
    );
  }

  /** The lexemes of each text, as the index sees them (stemmed, stop words removed). */
  async lexemes(language: string, texts: string[]): Promise<string[][]> {
    if (!texts.length) return [];
    const rows = await this.statements.run<{ lexemes: string[] }>(LEXEMES, {
      config: textSearchConfig(language),
      texts,
    });
    return rows.map((row) => row.lexemes);
  }

  /** The chatbot's passages that best match the question, at most `limit`. */
  async search(
    chatbot: Pick<Chatbot, 'id' | 'language'>,
    question: string,
    limit: number,
  ): Promise<KnowledgeSearchResult> {
    const [lexemes] = await this.lexemes(chatbot.language, [question]);
    const terms = searchTerms(lexemes, chatbot.language);
    const query = toOrTsQuery(terms);
    if (!query) return { terms, passages: [] };
    const rows = await this.statements.run<PassageRow>(SEARCH, {
      chatbotId: chatbot.id,
      query,
      terms: terms.map(termQuery),
      limit,
    });
    return {
      terms,
      passages: rows.map((row) => ({
        passageId: row.passage_id,
        documentId: row.document_id,
        documentTitle: row.document_title,
        position: row.position,
        content: row.content,
        matchedTerms: row.matched_terms,
        rank: row.rank,
      })),
    };
  }
}
