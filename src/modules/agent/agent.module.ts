import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AgentController } from './agent.controller';
import { AgentProvider } from './agent-provider';
import { AgentService } from './agent.service';
import { Chatbot } from './chatbot.entity';
import { ChatbotsController } from './chatbots.controller';
import { ChatbotsService } from './chatbots.service';
import { KnowledgeDocument } from './knowledge/knowledge-document.entity';
import { KnowledgePassage } from './knowledge/knowledge-passage.entity';
import { KnowledgeController } from './knowledge/knowledge.controller';
import { KnowledgeService } from './knowledge/knowledge.service';
import { PassageIndex } from './knowledge/passage-index';
import { LocalAgentProvider } from './providers/local-agent.provider';
import { OpenAiAgentProvider } from './providers/openai-agent.provider';

@Module({
  imports: [TypeOrmModule.forFeature([Chatbot, KnowledgeDocument, KnowledgePassage])],
  controllers: [ChatbotsController, KnowledgeController, AgentController],
  providers: [
    ChatbotsService,
    KnowledgeService,
    PassageIndex,
    AgentService,
    {
      // Built by hand so only the configured provider exists (the OpenAI client needs its config).
      provide: AgentProvider,
      inject: [APP_CONFIG, PassageIndex],
      useFactory: (config: AppConfig, passageIndex: PassageIndex): AgentProvider =>
        config.agentProvider === 'openai'
          ? new OpenAiAgentProvider(config.openai)
          : new LocalAgentProvider(passageIndex),
    },
  ],
  exports: [AgentService, ChatbotsService],
})
export class AgentModule {}
