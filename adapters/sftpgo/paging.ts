/**
 * Paging a user list over SFTPGo's offset API, the same in API v1 and v2: a page (one more asked
 * than wanted, to know whether another follows), or a scan of pages for a status (neither API can
 * filter by one).
 */
import type { ListUsersQuery } from '../../src/provider-kit/index.js';

/** SFTPGo clamps `limit` above this. */
export const PAGE_MAX = 500;
/** Upstream pages one status-filtered list request may read before it answers with what it has. */
export const MAX_SCAN_PAGES = 20;

/** One upstream page: `limit` users from `offset`, in the query's order. */
export type FetchPage<U> = (offset: number, limit: number) => Promise<U[]>;

/** The caller's limit as SFTPGo takes it: 1..500. */
export const pageLimit = (q: ListUsersQuery): number => Math.min(Math.max(1, Math.trunc(q.limit)), PAGE_MAX);

/** A page of `limit` users from the query's offset, mapped with `toUser`. */
export async function listPage<U, T>(fetchPage: FetchPage<U>, q: ListUsersQuery, limit: number, toUser: (u: U) => T): Promise<{ data: T[]; nextOffset: number | null }> {
  // One more than wanted tells whether a next page exists (a probe of 1 when that exceeds 500).
  const ask = Math.min(limit + 1, PAGE_MAX);
  const users = await fetchPage(q.offset, ask);
  let more = users.length > limit;
  if (!more && ask === limit && users.length === limit) more = (await fetchPage(q.offset + limit, 1)).length > 0;
  return { data: users.slice(0, limit).map(toUser), nextOffset: more ? q.offset + limit : null };
}

/**
 * Scans pages of 500 from the caller's position and keeps the users of the query's status.
 * nextOffset is the upstream position just after the last user consumed, so the next page resumes
 * exactly there. After MAX_SCAN_PAGES the page is answered as it stands: it may be short (fewer
 * than `limit`, even empty) but never wrong, and its nextOffset goes on.
 */
export async function listByStatus<U extends { status: number }, T>(
  fetchPage: FetchPage<U>, q: ListUsersQuery, limit: number, toUser: (u: U) => T,
): Promise<{ data: T[]; nextOffset: number | null }> {
  const wanted = q.status === 'active' ? 1 : 0;
  const kept: U[] = [];
  const page = (nextOffset: number | null) => ({ data: kept.map(toUser), nextOffset });
  let position = q.offset;
  for (let scanned = 0; scanned < MAX_SCAN_PAGES; scanned++) {
    const batch = await fetchPage(position, PAGE_MAX);
    const lastBatch = batch.length < PAGE_MAX;
    for (const [i, user] of batch.entries()) {
      if (user.status !== wanted) continue;
      kept.push(user);
      if (kept.length === limit) {
        // Known to be the end only when this batch was the last and holds no further match.
        const moreHere = batch.slice(i + 1).some((u) => u.status === wanted);
        return page(lastBatch && !moreHere ? null : position + i + 1);
      }
    }
    if (lastBatch) return page(null);
    position += batch.length;
  }
  return page(position);
}

