import { Body, Controller, HttpCode, Param, Post, UseInterceptors } from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CurrentOrganization } from '../../common/auth/auth.decorators';
import { Organization } from '../organizations/organization.entity';
import { AgentErrorInterceptor } from './agent-error.interceptor';
import { AgentService } from './agent.service';
import { ChatbotsService } from './chatbots.service';
import { AgentReplyDto, AgentReplyResponse } from './dto/agent-reply.dto';
import { UuidParam } from './uuid-param.pipe';

@ApiTags('agent')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'Missing, unknown or revoked API key' })
@Controller('chatbots/:chatbotId/agent')
@UseInterceptors(AgentErrorInterceptor)
export class AgentController {
  constructor(
    private readonly chatbots: ChatbotsService,
    private readonly agent: AgentService,
  ) {}

  @Post('reply')
  @HttpCode(200)
  @ApiOperation({
    summary: "Try the chatbot's agent",
    description: 'The same agent logic every channel uses, for the dashboard\'s "try your bot".',
  })
  @ApiOkResponse({ type: AgentReplyResponse })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: a malformed id or body field' })
  @ApiNotFoundResponse({ description: 'No such chatbot in this organization' })
  @ApiBadGatewayResponse({
    description: 'AGENT_UNAVAILABLE: the model API failed, timed out or answered nothing usable',
  })
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
