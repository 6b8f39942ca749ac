// What other modules may import from opt-outs (eslint enforces it; README "Module map").
export { OptOutsModule } from './opt-outs.module';
export {
  channelOptOutSenderSql,
  clearOptOutSql,
  optedOutSql,
  optOutSender,
  recordOptOutSql,
  SmsOptOutStore,
} from './sms-opt-out.store';
