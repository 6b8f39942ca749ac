import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Chatbot } from '../chatbot.entity';
import { KnowledgeDocument } from './knowledge-document.entity';

/**
 * A few sentences of a document with their full-text vector. The vector is built with the
 * chatbot's text search configuration by PassageIndex (the only writer), so TypeORM never
 * inserts, updates or selects it.
 */
@Entity('knowledge_passages')
@Index('knowledge_passages_document_id_position_key', ['documentId', 'position'], { unique: true })
export class KnowledgePassage {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid')
  documentId: string;

  @ManyToOne(() => KnowledgeDocument, (document) => document.passages, { onDelete: 'CASCADE' })
  @JoinColumn({ foreignKeyConstraintName: 'knowledge_passages_document_id_fkey' })
  document: KnowledgeDocument;

  /** Denormalised from the document so a search touches one table. */
  @Index('knowledge_passages_chatbot_id_idx')
  @Column('uuid')
  chatbotId: string;

  @ManyToOne(() => Chatbot, { onDelete: 'CASCADE' })
  @JoinColumn({ foreignKeyConstraintName: 'knowledge_passages_chatbot_id_fkey' })
  chatbot: Chatbot;

  /** Order within the document, from 0. */
  @Column('int')
  position: number;

  @Column({ type: 'text' })
  content: string;

  // GIN index: declared in the migration; TypeORM cannot describe its access method.
  @Index('knowledge_passages_search_vector_idx', { synchronize: false })
  @Column({ type: 'tsvector', select: false, insert: false, update: false })
  searchVector: string;
}
