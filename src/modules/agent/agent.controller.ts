import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentOrganization } from '../../common/auth/auth.decorators';
import { ApiDashboardErrors, JSON_BODY_ERRORS } from '../../common/errors/api-errors.decorator';
import { Organization } from '../organizations';
import { AgentService } from './agent.service';
import { ChatbotsService } from './chatbots.service';
import { AgentReplyDto, AgentReplyResponse } from './dto/agent-reply.dto';
import { UuidParam } from '../../common/validation/uuid-param.pipe';

@ApiTags('agent')
@ApiBearerAuth()
@Controller('chatbots/:chatbotId/agent')
export class AgentController {
  constructor(
    private readonly chatbots: ChatbotsService,
    private readonly agent: AgentService,
  ) {}

  @Post('reply')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'generateAgentReply',
    summary: "Try the chatbot's agent",
    description: 'The same agent logic every channel uses, for the dashboard\'s "try your bot".',
  })
  @ApiOkResponse({
    type: AgentReplyResponse,
    description: "The agent's reply and the knowledge it drew on",
  })
  @ApiDashboardErrors(...JSON_BODY_ERRORS, 'NOT_FOUND', 'AGENT_UNAVAILABLE')
  async reply(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
    @Body() dto: AgentReplyDto,
  ): Promise<AgentReplyResponse> {
    const chatbot = await this.chatbots.get(org.id, chatbotId);
    const { text, usedPassages } = await this.agent.reply({
      chatbot,
      conversationHistory: dto.history ?? [],
      message: dto.message,
      format: dto.format,
    });
    return { reply: text, usedPassages };
  }
}
