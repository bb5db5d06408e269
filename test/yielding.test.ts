import { describe, expect, it } from 'vitest';
import { mapYielding } from '../src/domain/yielding.js';

describe('mapYielding', () => {
  it('maps every item in order, and lets a timer run between turns of a long list', async () => {
    const items = Array.from({ length: 25 }, (_, i) => i);
    const seen: string[] = [];
    setTimeout(() => seen.push('timer'), 0);
    const out = await mapYielding(items, (n) => (seen.push(String(n)), n * 2), 10);
    expect(out).toEqual(items.map((n) => n * 2));
    // The timer ran after the first turn of 10 items, before the 11th was mapped.
    expect(seen.indexOf('timer')).toBe(10);
  });

  it('maps a list no longer than a turn at once, with no turn given', async () => {
    const seen: string[] = [];
    setTimeout(() => seen.push('timer'), 0);
    expect(await mapYielding([1, 2, 3], (n) => (seen.push(String(n)), n), 3)).toEqual([1, 2, 3]);
    expect(seen).toEqual(['1', '2', '3']);
  });
});
