import { Body, Controller, Get, Param, Patch, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CurrentOrganization } from '../../common/auth/auth.decorators';
import { Organization } from '../organizations/organization.entity';
import { ChatbotsService } from './chatbots.service';
import { ChatbotResponse, CreateChatbotDto, UpdateChatbotDto } from './dto/chatbot.dto';
import { UuidParam } from './uuid-param.pipe';

@ApiTags('chatbots')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'Missing, unknown or revoked API key' })
@ApiBadRequestResponse({ description: 'VALIDATION_FAILED: a malformed id or body field' })
@Controller('chatbots')
export class ChatbotsController {
  constructor(private readonly chatbots: ChatbotsService) {}

  @Post()
  @ApiCreatedResponse({ type: ChatbotResponse })
  async create(
    @CurrentOrganization() org: Organization,
    @Body() dto: CreateChatbotDto,
  ): Promise<ChatbotResponse> {
    return ChatbotResponse.of(await this.chatbots.create(org.id, dto));
  }

  @Get()
  @ApiOkResponse({ type: [ChatbotResponse] })
  async list(@CurrentOrganization() org: Organization): Promise<ChatbotResponse[]> {
    return (await this.chatbots.list(org.id)).map(ChatbotResponse.of);
  }

  @Get(':chatbotId')
  @ApiOkResponse({ type: ChatbotResponse })
  @ApiNotFoundResponse({ description: 'No such chatbot in this organization' })
  async get(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
  ): Promise<ChatbotResponse> {
    return ChatbotResponse.of(await this.chatbots.get(org.id, chatbotId));
  }

  @Patch(':chatbotId')
  @ApiOkResponse({ type: ChatbotResponse })
  @ApiNotFoundResponse({ description: 'No such chatbot in this organization' })
  async update(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
    @Body() dto: UpdateChatbotDto,
  ): Promise<ChatbotResponse> {
    return ChatbotResponse.of(await this.chatbots.update(org.id, chatbotId, dto));
  }
}
