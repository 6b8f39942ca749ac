import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentModule } from '../agent';
import { OptOutsModule } from '../opt-outs';
import { Conversation } from './conversation.entity';
import { ConversationsController } from './conversations.controller';
import { InboxService } from './inbox.service';
import { Message } from './message.entity';
import { SendAgentReplyUseCase } from './send-agent-reply.use-case';

@Module({
  imports: [TypeOrmModule.forFeature([Conversation, Message]), AgentModule, OptOutsModule],
  controllers: [ConversationsController],
  providers: [InboxService, SendAgentReplyUseCase],
  exports: [TypeOrmModule],
})
export class InboxModule {}
