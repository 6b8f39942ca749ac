import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Errors } from '../../../common/errors/errors';
import { applyKeyset, Page, PageQuery, toPage } from '../../../common/pagination/page';
import { ChatbotsService } from '../chatbots.service';
import {
  CreateKnowledgeDocumentDto,
  KnowledgeDocumentResponse,
  KnowledgeDocumentSummary,
} from '../dto/knowledge.dto';
import { KnowledgeDocument } from './knowledge-document.entity';
import { KnowledgePassage } from './knowledge-passage.entity';
import { PassageIndex } from './passage-index';
import { splitIntoPassages } from './passage-splitter';

/** A chatbot's knowledge documents, scoped to the organization resolved by the API key guard. */
@Injectable()
export class KnowledgeService {
  constructor(
    @InjectRepository(KnowledgeDocument)
    private readonly documents: Repository<KnowledgeDocument>,
    private readonly chatbots: ChatbotsService,
    private readonly passageIndex: PassageIndex,
  ) {}

  add(
    organizationId: string,
    chatbotId: string,
    dto: CreateKnowledgeDocumentDto,
  ): Promise<KnowledgeDocumentSummary> {
    const passages = splitIntoPassages(dto.content);
    return this.documents.manager.transaction(async (manager) => {
      // FOR SHARE: a concurrent language change either commits first (and we index with the new
      // language) or waits for this transaction (and then reindexes these passages too).
      const chatbot = await this.chatbots.get(
        organizationId,
        chatbotId,
        manager,
        'pessimistic_read',
      );
      const document = await manager.save(
        manager.create(KnowledgeDocument, {
          organizationId,
          chatbotId: chatbot.id,
          title: dto.title,
          content: dto.content,
        }),
      );
      await this.passageIndex.insertPassages(manager, document, passages, chatbot.language);
      const { id, title, createdAt } = document;
      return { id, title, passages: passages.length, createdAt };
    });
  }

  /** Oldest first; without content bodies, which may be 100 kB each. */
  async list(
    organizationId: string,
    chatbotId: string,
    query: PageQuery,
  ): Promise<Page<KnowledgeDocumentResponse>> {
    await this.chatbots.get(organizationId, chatbotId);
    const qb = this.documents
      .createQueryBuilder('document')
      .select('document.id', 'id')
      .addSelect('document.title', 'title')
      .addSelect('document.createdAt', 'createdAt')
      .addSelect(
        (count) =>
          count
            .select('COUNT(*)::int')
            .from(KnowledgePassage, 'passage')
            .where('passage.documentId = document.id'),
        'passages',
      )
      .where('document.organizationId = :organizationId', { organizationId })
      .andWhere('document.chatbotId = :chatbotId', { chatbotId });
    applyKeyset(qb, { at: 'document.createdAt', id: 'document.id', order: 'ASC' }, query);
    const rows = await qb.getRawMany<KnowledgeDocumentSummary & Record<string, unknown>>();
    return toPage(rows, rows, query, KnowledgeDocumentResponse.of);
  }

  /** Passages go with the document (ON DELETE CASCADE). */
  async remove(organizationId: string, chatbotId: string, documentId: string): Promise<void> {
    await this.chatbots.get(organizationId, chatbotId);
    const result = await this.documents.delete({ id: documentId, organizationId, chatbotId });
    if (!result.affected) throw Errors.notFound('Knowledge document');
  }
}
