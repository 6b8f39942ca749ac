import { Module } from '@nestjs/common';
import { SmsOptOutStore } from './sms-opt-out.store';

/** Who asked which sender to stop texting them; read by the inbox and the SMS flow alike. */
@Module({
  providers: [SmsOptOutStore],
  exports: [SmsOptOutStore],
})
export class OptOutsModule {}
