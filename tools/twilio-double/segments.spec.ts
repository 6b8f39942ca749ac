import { countSegments } from './segments';

describe('segments', () => {
  it.each([
    ['a', 160, 'GSM-7', 1],
    ['a', 161, 'GSM-7', 2],
    ['a', 306, 'GSM-7', 2],
    ['a', 307, 'GSM-7', 3],
    ['€', 80, 'GSM-7', 1],
    ['€', 81, 'GSM-7', 2],
    ['ä', 160, 'GSM-7', 1],
    ['ж', 70, 'UCS-2', 1],
    ['ж', 71, 'UCS-2', 2],
    ['🙂', 35, 'UCS-2', 1],
    ['🙂', 36, 'UCS-2', 2],
  ])('%s x%i is %s in %i segment(s)', (char, times, encoding, segments) => {
    const body = char.repeat(times);
    expect(countSegments(body)).toEqual({ encoding, segments });
  });
});
