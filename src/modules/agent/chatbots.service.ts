import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { notFound } from '../../common/errors/domain-error';
import { Chatbot } from './chatbot.entity';
import { CreateChatbotDto, UpdateChatbotDto } from './dto/chatbot.dto';

/** Chatbots, always scoped to the organization resolved by the API key guard. */
@Injectable()
export class ChatbotsService {
  constructor(@InjectRepository(Chatbot) private readonly chatbots: Repository<Chatbot>) {}

  create(organizationId: string, dto: CreateChatbotDto): Promise<Chatbot> {
    return this.chatbots.save(this.chatbots.create({ ...dto, organizationId }));
  }

  list(organizationId: string): Promise<Chatbot[]> {
    return this.chatbots.find({ where: { organizationId }, order: { createdAt: 'ASC' } });
  }

  /** Another organization's chatbot is indistinguishable from a missing one: 404. */
  async get(organizationId: string, chatbotId: string): Promise<Chatbot> {
    const chatbot = await this.chatbots.findOneBy({ id: chatbotId, organizationId });
    if (!chatbot) throw notFound('Chatbot');
    return chatbot;
  }

  async update(organizationId: string, chatbotId: string, dto: UpdateChatbotDto): Promise<Chatbot> {
    const chatbot = await this.get(organizationId, chatbotId);
    return this.chatbots.save(this.chatbots.merge(chatbot, dto));
  }
}
