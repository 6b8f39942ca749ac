import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { CurrentOrganization } from '../../common/auth/auth.decorators';
import { ErrorResponse } from '../../common/errors/error-response.dto';
import { ChatbotsService } from '../agent/chatbots.service';
import { UuidParam } from '../agent/uuid-param.pipe';
import { Organization } from '../organizations/organization.entity';
import { ConnectSmsChannelUseCase } from './connect-sms-channel.use-case';
import { DisconnectSmsChannelUseCase } from './disconnect-sms-channel.use-case';
import { ConnectSmsChannelDto, SmsChannelStatus } from './dto/sms-channel.dto';
import { SmsChannelsService } from './sms-channels.service';

@ApiTags('sms channel')
@ApiBearerAuth()
@ApiUnauthorizedResponse({
  type: ErrorResponse,
  description: 'Missing, unknown or revoked API key',
})
@ApiNotFoundResponse({ type: ErrorResponse, description: 'No such chatbot in this organization' })
@Controller('chatbots/:chatbotId/channels/sms')
export class SmsChannelController {
  constructor(
    private readonly connectChannel: ConnectSmsChannelUseCase,
    private readonly disconnectChannel: DisconnectSmsChannelUseCase,
    private readonly channels: SmsChannelsService,
    private readonly chatbots: ChatbotsService,
  ) {}

  @Put()
  @ApiOkResponse({ type: SmsChannelStatus, description: 'Connected; the status of the channel' })
  @ApiBadRequestResponse({
    type: ErrorResponse,
    description: 'VALIDATION_FAILED: Account SID, Auth Token or number malformed',
  })
  @ApiForbiddenResponse({
    type: ErrorResponse,
    description: 'PLAN_UPGRADE_REQUIRED: integrations need Starter or above',
  })
  @ApiConflictResponse({ type: ErrorResponse, description: 'NUMBER_ALREADY_CONNECTED' })
  @ApiUnprocessableEntityResponse({
    type: ErrorResponse,
    description:
      'TWILIO_CREDENTIALS_REJECTED, TWILIO_NUMBER_NOT_OWNED, TWILIO_NUMBER_NOT_SMS_CAPABLE, TWILIO_ACCOUNT_NOT_ACTIVE',
  })
  @ApiServiceUnavailableResponse({
    type: ErrorResponse,
    description: "TWILIO_UNREACHABLE: Couldn't reach Twilio right now",
  })
  async connect(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
    @Body() dto: ConnectSmsChannelDto,
  ): Promise<SmsChannelStatus> {
    return SmsChannelStatus.of(
      await this.connectChannel.execute(org, chatbotId, dto),
      this.channels.webhookUrl,
    );
  }

  @Get()
  @ApiOkResponse({ type: SmsChannelStatus })
  async status(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
  ): Promise<SmsChannelStatus> {
    await this.chatbots.get(org.id, chatbotId);
    return SmsChannelStatus.of(
      await this.channels.findForChatbot(org.id, chatbotId),
      this.channels.webhookUrl,
    );
  }

  @Delete()
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Disconnected; the stored credentials are gone' })
  async disconnect(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
  ): Promise<void> {
    await this.disconnectChannel.execute(org.id, chatbotId);
  }
}
