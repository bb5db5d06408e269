/** The fast ISO writer must write exactly what `Date#toISOString` writes, over a Date's whole range. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoFromMs } from '../src/domain/iso-time.js';

const MAX_DATE_MS = 8.64e15;
/** The reference: what both adapters wrote before, with Date. */
const viaDate = (ms: number) => (ms > 0 && ms <= MAX_DATE_MS ? new Date(ms).toISOString() : null);

describe('isoFromMs', () => {
  it.each([
    [1, '1970-01-01T00:00:00.001Z'],
    [1616615059930, '2021-03-24T19:44:19.930Z'],
    [951782400000, '2000-02-29T00:00:00.000Z'], // a leap day of a year divisible by 400
    [4107542399999, '2100-02-28T23:59:59.999Z'], // 2100 is not a leap year
    [253402300799999, '9999-12-31T23:59:59.999Z'], // the last four-digit year
    [253402300800000, '+010000-01-01T00:00:00.000Z'], // the first six-digit one
    [MAX_DATE_MS, '+275760-09-13T00:00:00.000Z'],
    [1616615059930.7, '2021-03-24T19:44:19.930Z'], // a fraction of a ms is dropped, as Date does
  ])('%s → %s', (ms, iso) => {
    expect(isoFromMs(ms)).toBe(iso);
  });

  it.each([null, undefined, 0, -1, -8.64e15, MAX_DATE_MS + 1, Number.NaN, Infinity])('%s → null', (ms) => {
    expect(isoFromMs(ms)).toBeNull();
  });

  it('agrees with toISOString for any time a Date holds, and for every ms around each year start', () => {
    const anyMs = fc.oneof(
      fc.integer({ min: 1, max: 253402300799999 }),
      fc.double({ min: -1, max: MAX_DATE_MS + 10, noNaN: true }),
    );
    fc.assert(fc.property(anyMs, (ms) => isoFromMs(ms) === viaDate(ms)), { numRuns: 20_000 });
    for (let year = 1970; year <= 9999; year += 1) {
      const start = Date.UTC(year, 0, 1);
      for (const ms of [start - 1, start, start + 1, Date.UTC(year, 1, 28, 23, 59, 59, 999), Date.UTC(year, 2, 1)]) {
        if (isoFromMs(ms) !== viaDate(ms)) expect.fail(`${ms}: ${isoFromMs(ms)} ≠ ${viaDate(ms)}`);
      }
    }
  });
});
