import { replyDecision, wantsReply } from './reply-rules';

const OUR_NUMBER = '+15005550006';
const message = {
  keyword: null,
  body: 'Hi',
  mediaDropped: 0,
  from: '+358401234567',
  channelNumber: OUR_NUMBER,
};

describe('wantsReply: does an inbound message ask for the bot’s answer', () => {
  it('a text from a number we can text back does', () => {
    expect(wantsReply(message)).toBe(true);
  });

  it('a keyword does not: Twilio answers STOP, START and HELP itself', () => {
    for (const keyword of ['opt-out', 'opt-in', 'help'] as const)
      expect(wantsReply({ ...message, keyword })).toBe(false);
  });

  it('an empty message does not, unless it carried attachments (they get the media-only reply)', () => {
    expect(wantsReply({ ...message, body: '  ' })).toBe(false);
    expect(wantsReply({ ...message, body: '', mediaDropped: 2 })).toBe(true);
  });

  it('a short code, an alphanumeric sender or our own number is never texted back', () => {
    for (const from of ['72345', 'ACMEBANK', OUR_NUMBER])
      expect(wantsReply({ ...message, from })).toBe(false);
  });
});

describe('replyDecision: what the reply job does when it runs', () => {
  const inbound = {
    existing_reply_id: null,
    bot_may_answer: true,
    status: 'bot',
    channel_id: 'c1',
    bot_replies_last_minute: 0,
  };

  it('answers when the bot may and nothing stands in the way', () => {
    expect(replyDecision(inbound, 5)).toBe('answer');
  });

  it('delivers an answer an earlier run stored, whatever changed since: never a second answer', () => {
    expect(replyDecision({ ...inbound, existing_reply_id: 'r1', bot_may_answer: false }, 5)).toBe(
      'deliver-existing',
    );
  });

  it('stays silent where the bot may not answer, naming why', () => {
    expect(replyDecision({ ...inbound, bot_may_answer: false, status: 'human' }, 5)).toBe(
      'skipped-not-bot',
    );
    expect(replyDecision({ ...inbound, bot_may_answer: false, status: 'bot' }, 5)).toBe(
      'skipped-opted-out',
    );
    expect(replyDecision({ ...inbound, channel_id: null }, 5)).toBe('skipped-no-channel');
  });

  it('the loop guard stops at the per-minute limit, not before', () => {
    expect(replyDecision({ ...inbound, bot_replies_last_minute: 4 }, 5)).toBe('answer');
    expect(replyDecision({ ...inbound, bot_replies_last_minute: 5 }, 5)).toBe('skipped-loop-guard');
  });
});
