import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentModule } from '../agent';
import { ChannelsModule } from '../channels';
import { OptOutsModule } from '../opt-outs';
import { Conversation } from './conversation.entity';
import { ConversationStore } from './conversation.store';
import { ConversationsController } from './conversations.controller';
import { InboxService } from './inbox.service';
import { Message } from './message.entity';
import { MessageStore } from './message.store';
import { SendAgentReplyUseCase } from './send-agent-reply.use-case';

/** Conversations and their messages (it owns both tables) and the dashboard's inbox routes. */
@Module({
  imports: [
    TypeOrmModule.forFeature([Conversation, Message]),
    AgentModule,
    ChannelsModule,
    OptOutsModule,
  ],
  controllers: [ConversationsController],
  providers: [ConversationStore, MessageStore, InboxService, SendAgentReplyUseCase],
  exports: [ConversationStore, MessageStore],
})
export class InboxModule {}
