import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Chatbot } from './chatbot.entity';
import { ChatbotsController } from './chatbots.controller';
import { ChatbotsService } from './chatbots.service';

@Module({
  imports: [TypeOrmModule.forFeature([Chatbot])],
  controllers: [ChatbotsController],
  providers: [ChatbotsService],
  exports: [ChatbotsService],
})
export class AgentModule {}
