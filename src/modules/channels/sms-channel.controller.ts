import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentOrganization } from '../../common/auth/auth.decorators';
import { ApiDashboardErrors, JSON_BODY_ERRORS } from '../../common/errors/api-errors.decorator';
import { Idempotent, IDEMPOTENCY_ERRORS } from '../../common/idempotency/idempotent.decorator';
import { ChatbotsService } from '../agent/chatbots.service';
import { UuidParam } from '../agent/uuid-param.pipe';
import { Organization } from '../organizations/organization.entity';
import { ConnectSmsChannelUseCase } from './connect-sms-channel.use-case';
import { DisconnectSmsChannelUseCase } from './disconnect-sms-channel.use-case';
import { ConnectSmsChannelDto, SmsChannelStatus } from './dto/sms-channel.dto';
import { SmsChannelsService } from './sms-channels.service';

@ApiTags('sms channel')
@ApiBearerAuth()
@Controller('chatbots/:chatbotId/channels/sms')
export class SmsChannelController {
  constructor(
    private readonly connectChannel: ConnectSmsChannelUseCase,
    private readonly disconnectChannel: DisconnectSmsChannelUseCase,
    private readonly channels: SmsChannelsService,
    private readonly chatbots: ChatbotsService,
  ) {}

  @Put()
  @ApiOperation({
    operationId: 'connectSmsChannel',
    summary: "Connect the chatbot to the customer's own Twilio number",
    description:
      'Validates the formats, then probes Twilio (the account, the number among its IncomingPhoneNumbers, SMS capability) before anything is stored; the Auth Token is stored AES-256-GCM encrypted and never returned. ' +
      'With `configureWebhook: true` the number\'s "A message comes in" URL is set to `webhookUrl` (HTTP POST); otherwise paste `webhookUrl` in the Twilio Console. Connecting again replaces the stored credentials.',
  })
  @ApiOkResponse({ type: SmsChannelStatus, description: 'Connected; the status of the channel' })
  @ApiDashboardErrors(
    ...JSON_BODY_ERRORS,
    'NOT_FOUND',
    'PLAN_UPGRADE_REQUIRED',
    'NUMBER_ALREADY_CONNECTED',
    'TWILIO_CREDENTIALS_REJECTED',
    'TWILIO_NUMBER_NOT_OWNED',
    'TWILIO_NUMBER_NOT_SMS_CAPABLE',
    'TWILIO_ACCOUNT_NOT_ACTIVE',
    'TWILIO_REQUEST_REJECTED',
    'TWILIO_UNREACHABLE',
    ...IDEMPOTENCY_ERRORS,
  )
  @Idempotent()
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
  @ApiOperation({
    operationId: 'getSmsChannelStatus',
    summary: "The SMS channel's status",
    description:
      '`connected: false` and nulls when not connected. `lastError` is the reason of the latest failed delivery (the Twilio error code and a readable message).',
  })
  @ApiOkResponse({
    type: SmsChannelStatus,
    description: 'The status of the channel, connected or not',
  })
  @ApiDashboardErrors('VALIDATION_FAILED', 'NOT_FOUND')
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
  @ApiOperation({
    operationId: 'disconnectSmsChannel',
    summary: 'Disconnect: the stored credentials are deleted at once',
    description:
      "Later webhooks for the number are refused (403). The number's SmsUrl is cleared if it still points at us.",
  })
  @ApiNoContentResponse({ description: 'Disconnected; the stored credentials are gone' })
  @ApiDashboardErrors('VALIDATION_FAILED', 'NOT_FOUND')
  async disconnect(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
  ): Promise<void> {
    await this.disconnectChannel.execute(org.id, chatbotId);
  }
}
