import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentOrganization } from '../../common/auth/auth.decorators';
import { ApiDashboardErrors, JSON_BODY_ERRORS } from '../../common/errors/api-errors.decorator';
import { Idempotent, IDEMPOTENCY_ERRORS } from '../../common/idempotency/idempotent.decorator';
import { Organization } from '../organizations';
import { ChatbotsService } from './chatbots.service';
import { PageQuery } from '../../common/pagination/page';
import {
  ChatbotPage,
  ChatbotResponse,
  CreateChatbotDto,
  UpdateChatbotDto,
} from './dto/chatbot.dto';
import { UuidParam } from '../../common/validation/uuid-param.pipe';

@ApiTags('chatbots')
@ApiBearerAuth()
@Controller('chatbots')
export class ChatbotsController {
  constructor(private readonly chatbots: ChatbotsService) {}

  @Post()
  @ApiOperation({
    operationId: 'createChatbot',
    summary: 'Create a chatbot',
    description: 'Its agent answers every channel (website widget, SMS) from its knowledge base.',
  })
  @ApiCreatedResponse({ type: ChatbotResponse, description: 'Created; the new chatbot' })
  @ApiDashboardErrors(...JSON_BODY_ERRORS, ...IDEMPOTENCY_ERRORS)
  @Idempotent()
  async create(
    @CurrentOrganization() org: Organization,
    @Body() dto: CreateChatbotDto,
  ): Promise<ChatbotResponse> {
    return ChatbotResponse.of(await this.chatbots.create(org.id, dto));
  }

  @Get()
  @ApiOperation({
    operationId: 'listChatbots',
    summary: "The organization's chatbots, oldest first",
    description:
      'Cursor-paginated: pass the `nextCursor` of one page as `cursor` to get the next; it is null on the last page.',
  })
  @ApiOkResponse({ type: ChatbotPage, description: 'A page of chatbots' })
  @ApiDashboardErrors('VALIDATION_FAILED')
  list(@CurrentOrganization() org: Organization, @Query() query: PageQuery): Promise<ChatbotPage> {
    return this.chatbots.list(org.id, query);
  }

  @Get(':chatbotId')
  @ApiOperation({
    operationId: 'getChatbot',
    summary: 'A chatbot',
  })
  @ApiOkResponse({ type: ChatbotResponse, description: 'The chatbot' })
  @ApiDashboardErrors('VALIDATION_FAILED', 'NOT_FOUND')
  async get(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
  ): Promise<ChatbotResponse> {
    return ChatbotResponse.of(await this.chatbots.get(org.id, chatbotId));
  }

  @Patch(':chatbotId')
  @ApiOperation({
    operationId: 'updateChatbot',
    summary: "Change a chatbot's name, prompt, fallback or language",
  })
  @ApiOkResponse({ type: ChatbotResponse, description: 'Changed; the chatbot as it is now' })
  @ApiDashboardErrors(...JSON_BODY_ERRORS, 'NOT_FOUND')
  async update(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
    @Body() dto: UpdateChatbotDto,
  ): Promise<ChatbotResponse> {
    return ChatbotResponse.of(await this.chatbots.update(org.id, chatbotId, dto));
  }
}
