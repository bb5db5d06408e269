import { describe, expect, it } from 'vitest';
import type { AdapterUser } from '../src/domain/model.js';
import { pageOfAll, sortByUsername } from '../src/domain/paging.js';

const user = (username: string, status: 'active' | 'disabled' = 'active') =>
  ({ username, status, raw: () => ({}) }) as unknown as AdapterUser;
const names = (users: AdapterUser[]) => users.map((u) => u.username);
const all = [user('carol'), user('alice'), user('Bob', 'disabled'), user('dave'), user('erin', 'disabled')];

describe('pageOfAll', () => {
  it('orders by username in code-unit order and walks every page once', () => {
    const seen: string[] = [];
    let offset: number | null = 0;
    while (offset !== null) {
      const page: { data: AdapterUser[]; nextOffset: number | null } = pageOfAll(all, { limit: 2, offset, order: 'asc' });
      seen.push(...names(page.data));
      offset = page.nextOffset;
    }
    expect(seen).toEqual(['Bob', 'alice', 'carol', 'dave', 'erin']);
  });

  it('reverses for desc, filters by status and exact username', () => {
    expect(names(pageOfAll(all, { limit: 10, offset: 0, order: 'desc' }).data)).toEqual(['erin', 'dave', 'carol', 'alice', 'Bob']);
    expect(names(pageOfAll(all, { limit: 10, offset: 0, order: 'asc', status: 'disabled' }).data)).toEqual(['Bob', 'erin']);
    expect(names(pageOfAll(all, { limit: 10, offset: 0, order: 'asc', username: 'bob' }).data)).toEqual([]);
    expect(names(pageOfAll(all, { limit: 10, offset: 0, order: 'asc', username: 'Bob' }).data)).toEqual(['Bob']);
  });

  it('says there is no next page exactly at the end, and answers an offset past it with nothing', () => {
    expect(pageOfAll(all, { limit: 5, offset: 0, order: 'asc' }).nextOffset).toBeNull();
    expect(pageOfAll(all, { limit: 4, offset: 0, order: 'asc' }).nextOffset).toBe(4);
    expect(pageOfAll(all, { limit: 4, offset: 9, order: 'asc' })).toEqual({ data: [], nextOffset: null });
  });

  it('cuts the same pages from a list sorted once (sorted: true), in both orders, at every offset and limit', () => {
    const sorted = sortByUsername([...all]);
    for (const order of ['asc', 'desc'] as const) {
      for (let limit = 1; limit <= 6; limit++) {
        for (let offset = 0; offset <= 7; offset++) {
          const q = { limit, offset, order };
          expect(pageOfAll(sorted, q, true), JSON.stringify(q)).toEqual(pageOfAll(all, q));
        }
      }
    }
    // Filters still filter.
    expect(names(pageOfAll(sorted, { limit: 10, offset: 0, order: 'desc', status: 'disabled' }, true).data)).toEqual(['erin', 'Bob']);
  });
});
