import { Body, Controller, Header, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../../../common/auth/auth.decorators';
import { UpdateDeliveryStatusUseCase } from '../delivery/update-delivery-status.use-case';
import { ReceiveInboundSmsUseCase } from '../inbound/receive-inbound-sms.use-case';
import { ChannelNumberField, SignedRequest, TwilioSignatureGuard } from './twilio-signature.guard';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

/** Where an SMS enters: Twilio's inbound webhook and its delivery status callback. */
@ApiExcludeController()
@Public()
@UseGuards(TwilioSignatureGuard)
@Controller('webhooks/twilio/sms')
export class TwilioWebhookController {
  constructor(
    private readonly receiveInbound: ReceiveInboundSmsUseCase,
    private readonly updateDeliveryStatus: UpdateDeliveryStatusUseCase,
  ) {}

  @Post()
  @HttpCode(200)
  @Header('Content-Type', 'text/xml')
  @ChannelNumberField('To')
  async inbound(
    @Req() request: SignedRequest,
    @Body() params: Record<string, string | string[]>,
  ): Promise<string> {
    await this.receiveInbound.execute(request.smsChannel!, params);
    return EMPTY_TWIML;
  }

  @Post('status')
  @HttpCode(200)
  @Header('Content-Type', 'text/xml')
  @ChannelNumberField('From')
  async status(
    @Req() request: SignedRequest,
    @Body() params: Record<string, string | string[]>,
  ): Promise<string> {
    await this.updateDeliveryStatus.execute(request.smsChannel!, params);
    return EMPTY_TWIML;
  }
}
