import { countSegments } from './sms-segments';

describe('countSegments', () => {
  describe('GSM-7', () => {
    it('counts an empty body as one segment, as Twilio bills it', () => {
      expect(countSegments('')).toEqual({ encoding: 'GSM-7', segments: 1, units: 0 });
    });

    it.each([
      [1, 1],
      [160, 1],
      [161, 2],
      [306, 2],
      [307, 3],
      [459, 3],
      [460, 4],
    ])('%i plain characters → %i segment(s)', (length, segments) => {
      expect(countSegments('a'.repeat(length))).toEqual({
        encoding: 'GSM-7',
        segments,
        units: length,
      });
    });

    it('accepts every character of the GSM 03.38 basic table', () => {
      const basic =
        '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
        '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
      expect(basic).toHaveLength(127);
      expect(countSegments(basic)).toEqual({ encoding: 'GSM-7', segments: 1, units: 127 });
    });

    it('counts every extension character as 2 units', () => {
      for (const char of ['^', '{', '}', '\\', '[', '~', ']', '|', '€', '\f']) {
        expect(countSegments(char)).toEqual({ encoding: 'GSM-7', segments: 1, units: 2 });
      }
    });

    it('counts a single € as 2 units', () => {
      expect(countSegments('€')).toEqual({ encoding: 'GSM-7', segments: 1, units: 2 });
      expect(countSegments('5€')).toEqual({ encoding: 'GSM-7', segments: 1, units: 3 });
    });

    it('fits an extension character ending exactly at 160 units in one segment', () => {
      expect(countSegments('a'.repeat(158) + '€')).toEqual({
        encoding: 'GSM-7',
        segments: 1,
        units: 160,
      });
    });

    it('splits when an extension character pushes the total to 161 units', () => {
      expect(countSegments('a'.repeat(159) + '€')).toEqual({
        encoding: 'GSM-7',
        segments: 2,
        units: 161,
      });
    });

    it('does not split an escape sequence across segments', () => {
      // 306 units would naively be 2 × 153, but the € cannot start at position 153 of part 1,
      // so part 1 holds 152 units and the last character spills into a third part.
      const body = 'a'.repeat(152) + '€' + 'a'.repeat(152);
      expect(countSegments(body)).toEqual({ encoding: 'GSM-7', segments: 3, units: 306 });
    });

    it('uses the full 153 units when the escape sequence ends exactly at the boundary', () => {
      const body = 'a'.repeat(151) + '€' + 'a'.repeat(153);
      expect(countSegments(body)).toEqual({ encoding: 'GSM-7', segments: 2, units: 306 });
    });

    it('keeps Finnish text with ä/ö/å in GSM-7', () => {
      const body = 'Hyvää päivää! Äiti söi jäätelöä Åbossa.';
      expect(countSegments(body)).toEqual({
        encoding: 'GSM-7',
        segments: 1,
        units: body.length,
      });
    });

    it('counts a 1,600-character body', () => {
      expect(countSegments('a'.repeat(1600))).toEqual({
        encoding: 'GSM-7',
        segments: 11,
        units: 1600,
      });
    });
  });

  describe('UCS-2', () => {
    it('treats lowercase ç as outside GSM-7 (only uppercase Ç is in the basic table)', () => {
      expect(countSegments('Ç')).toEqual({ encoding: 'GSM-7', segments: 1, units: 1 });
      expect(countSegments('ça va')).toEqual({ encoding: 'UCS-2', segments: 1, units: 5 });
    });

    it('treats a literal ESC character as outside GSM-7', () => {
      expect(countSegments('a\u001bb').encoding).toBe('UCS-2');
    });

    it('switches the whole body to UCS-2 for one emoji', () => {
      expect(countSegments('Hello 😀')).toEqual({ encoding: 'UCS-2', segments: 1, units: 8 });
    });

    it.each([
      [70, 1],
      [71, 2],
      [134, 2],
      [135, 3],
      [201, 3],
      [202, 4],
    ])('%i Cyrillic characters → %i segment(s)', (length, segments) => {
      expect(countSegments('ж'.repeat(length))).toEqual({
        encoding: 'UCS-2',
        segments,
        units: length,
      });
    });

    it('fits an emoji ending exactly at 70 units in one segment', () => {
      expect(countSegments('ж'.repeat(68) + '😀')).toEqual({
        encoding: 'UCS-2',
        segments: 1,
        units: 70,
      });
    });

    it('splits when an emoji pushes the total to 71 units', () => {
      expect(countSegments('ж'.repeat(69) + '😀')).toEqual({
        encoding: 'UCS-2',
        segments: 2,
        units: 71,
      });
    });

    it('does not split a surrogate pair straddling a segment boundary', () => {
      // 134 units would naively be 2 × 67, but the emoji would straddle units 67/68,
      // so it moves to part 2 and the last character spills into part 3.
      const body = 'ж'.repeat(66) + '😀' + 'ж'.repeat(66);
      expect(countSegments(body)).toEqual({ encoding: 'UCS-2', segments: 3, units: 134 });
    });

    it('uses the full 67 units when an emoji ends exactly at the boundary', () => {
      const body = 'ж'.repeat(65) + '😀' + 'ж'.repeat(67);
      expect(countSegments(body)).toEqual({ encoding: 'UCS-2', segments: 2, units: 134 });
    });

    it('counts GSM extension characters as 1 unit once the body is UCS-2', () => {
      expect(countSegments('€ ж')).toEqual({ encoding: 'UCS-2', segments: 1, units: 3 });
    });

    it('does not crash on lone surrogates and counts them as 1 unit each', () => {
      expect(countSegments('\ud83d')).toEqual({ encoding: 'UCS-2', segments: 1, units: 1 });
      expect(countSegments('a\ude00b\ud83d')).toEqual({
        encoding: 'UCS-2',
        segments: 1,
        units: 4,
      });
      expect(countSegments('\ud83d'.repeat(71))).toEqual({
        encoding: 'UCS-2',
        segments: 2,
        units: 71,
      });
    });

    it('counts a 1,600-character body', () => {
      expect(countSegments('ж'.repeat(1600))).toEqual({
        encoding: 'UCS-2',
        segments: 24,
        units: 1600,
      });
      expect(countSegments('😀'.repeat(800))).toEqual({
        encoding: 'UCS-2',
        // 33 emoji (66 units) per part, since a 34th would straddle the 67-unit boundary.
        segments: 25,
        units: 1600,
      });
    });
  });
});
