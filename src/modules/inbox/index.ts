// What other modules may import from inbox (eslint enforces it; README "Module map").
export { Conversation } from './conversation.entity';
export { InboxModule } from './inbox.module';
export { Message } from './message.entity';
export {
  type BotReply,
  type InboundForReply,
  type InboundSms,
  type InboundStored,
  MessageStore,
  type OutboundForDelivery,
} from './message.store';
