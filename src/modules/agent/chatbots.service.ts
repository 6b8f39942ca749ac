import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { Errors } from '../../common/errors/errors';
import { applyKeyset, Page, PageQuery, toPage } from '../../common/pagination/page';
import { PreparedStatements } from '../../database/prepared-statements';
import { statement } from '../../database/statement';
import { Chatbot } from './chatbot.entity';
import { ChatbotResponse, CreateChatbotDto, UpdateChatbotDto } from './dto/chatbot.dto';
import { PassageIndex } from './knowledge/passage-index';

/** What an answer needs of a chatbot, for the reply job: one prepared statement, no entity. */
const FOR_REPLY = statement<{ id: string; organizationId: string }>(
  'chatbot-for-reply',
  (p) => `SELECT id, organization_id AS "organizationId", name, system_prompt AS "systemPrompt",
      fallback_message AS "fallbackMessage", media_only_reply AS "mediaOnlyReply", language,
      created_at AS "createdAt", updated_at AS "updatedAt"
    FROM chatbots WHERE id = ${p.id} AND organization_id = ${p.organizationId}`,
);

/** Chatbots, always scoped to the organization resolved by the API key guard. */
@Injectable()
export class ChatbotsService {
  constructor(
    @InjectRepository(Chatbot) private readonly chatbots: Repository<Chatbot>,
    private readonly passageIndex: PassageIndex,
    private readonly statements: PreparedStatements,
  ) {}

  create(organizationId: string, dto: CreateChatbotDto): Promise<Chatbot> {
    return this.chatbots.save(this.chatbots.create({ ...dto, organizationId }));
  }

  async list(organizationId: string, query: PageQuery): Promise<Page<ChatbotResponse>> {
    const qb = this.chatbots
      .createQueryBuilder('chatbot')
      .where('chatbot.organizationId = :organizationId', { organizationId });
    applyKeyset(qb, { at: 'chatbot.createdAt', id: 'chatbot.id', order: 'ASC' }, query);
    const { entities, raw } = await qb.getRawAndEntities();
    return toPage(entities, raw, query, ChatbotResponse.of);
  }

  /**
   * Another organization's chatbot is indistinguishable from a missing one: 404. Inside a
   * transaction, `lock` takes a row lock so a concurrent language change and knowledge upload are
   * ordered (see KnowledgeService.add).
   */
  async get(
    organizationId: string,
    chatbotId: string,
    manager: EntityManager = this.chatbots.manager,
    lock?: 'pessimistic_read' | 'pessimistic_write',
  ): Promise<Chatbot> {
    const chatbot = await manager.findOne(Chatbot, {
      where: { id: chatbotId, organizationId },
      ...(lock ? { lock: { mode: lock } } : {}),
    });
    if (!chatbot) throw Errors.notFound('Chatbot');
    return chatbot;
  }

  /** As get(), for the SMS reply job (hundreds a second): the same row, read without TypeORM. */
  async getForReply(organizationId: string, chatbotId: string): Promise<Chatbot> {
    const [chatbot] = await this.statements.run<Chatbot>(FOR_REPLY, {
      id: chatbotId,
      organizationId,
    });
    if (!chatbot) throw Errors.notFound('Chatbot');
    return chatbot;
  }

  /** A new language rebuilds the knowledge vectors in the same transaction, so search never mixes configurations. */
  update(organizationId: string, chatbotId: string, dto: UpdateChatbotDto): Promise<Chatbot> {
    return this.chatbots.manager.transaction(async (manager) => {
      const chatbot = await this.get(organizationId, chatbotId, manager, 'pessimistic_write');
      const previousLanguage = chatbot.language;
      const saved = await manager.save(this.chatbots.merge(chatbot, dto));
      if (saved.language !== previousLanguage) {
        await this.passageIndex.reindexChatbot(manager, saved.id, saved.language);
      }
      return saved;
    });
  }
}
