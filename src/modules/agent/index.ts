// What other modules may import from agent (eslint enforces it; README "Module map").
export { AgentError } from './agent.errors';
export { AgentModule } from './agent.module';
export { AgentService } from './agent.service';
export { Chatbot } from './chatbot.entity';
export { ChatbotsService } from './chatbots.service';
