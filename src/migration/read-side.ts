/**
 * Reading one side of a migration, and nothing but reading: its server found (so its fields,
 * operations and permissions are certain), its whole user list, and a user's keys and rules.
 */
import { CAPABILITIES, type AdapterUser } from '../domain/model.js';
import { upstreamError } from '../domain/errors.js';
import { vocabularyOf } from '../domain/permissions.js';
import type { CallContext, ProviderAdapter } from '../provider-kit/adapter.js';
import type { SideProfile, UserFacts } from './field-rules.js';
import type { PlannedBackend } from './plan-types.js';

/** A backend taking part in a migration: its configured name and its adapter. */
export interface MigrationSide {
  name: string;
  adapter: ProviderAdapter;
}

/** The largest page every adapter takes (SFTPGo clamps its lists at 500). */
const PAGE_SIZE = 500;
/** Users read at once beyond the list: enough to overlap round trips, few enough to spare the upstream. */
const READ_CONCURRENCY = 4;

/** Finds the server where the adapter can, so that what the profile says is certain. */
export async function resolveSide(side: MigrationSide, ctx: CallContext): Promise<void> {
  const { adapter } = side;
  if (!adapter.resolve) return;
  // The first call finds the server; the rest are answered from what it found.
  for (const capability of CAPABILITIES) await adapter.resolve(ctx, capability);
}

export function profileOf(side: MigrationSide): SideProfile {
  const { adapter } = side;
  return {
    label: adapter.naming.label(),
    provider: adapter.provider,
    fields: adapter.fields,
    vocab: vocabularyOf(adapter.permissions),
    sshKeys: adapter.operations.sshKeys !== undefined,
    networkRules: adapter.operations.networkRules !== undefined,
    rules: adapter.naming,
    refusals: adapter,
  };
}

export function describeSide(side: MigrationSide): PlannedBackend {
  const server = side.adapter.server?.();
  return {
    backend: side.name,
    provider: side.adapter.provider,
    apiVersion: server?.apiVersion ?? null,
    serverVersion: server?.serverVersion ?? null,
  };
}

/** Every user of the backend: its one whole list, or its pages followed to the end. */
export async function listEveryUser(side: MigrationSide, ctx: CallContext): Promise<AdapterUser[]> {
  const { adapter } = side;
  if (adapter.listAllUsers) return adapter.listAllUsers(ctx);
  const all: AdapterUser[] = [];
  let offset = 0;
  for (;;) {
    const page = await adapter.listUsers({ limit: PAGE_SIZE, offset, order: 'asc' }, ctx);
    all.push(...page.data);
    if (page.nextOffset === null) return all;
    // A position that does not move on would loop for ever and plan from a partial list.
    if (page.nextOffset <= offset) throw upstreamError(`backend ${side.name}: its user list did not advance past position ${offset}`);
    offset = page.nextOffset;
  }
}

/**
 * A user with the keys and rules its backend holds (null where the backend has none). Keys are
 * read even when the list counts none: a count the upstream left out reads as 0.
 */
export async function factsOf(side: MigrationSide, user: AdapterUser, ctx: CallContext): Promise<UserFacts> {
  const { sshKeys, networkRules } = side.adapter.operations;
  const [keys, rules] = await Promise.all([
    sshKeys === undefined ? null : sshKeys.listSshKeys(user.id, ctx),
    networkRules === undefined ? null : networkRules.listNetworkRules(user.id, ctx),
  ]);
  return { user, sshKeys: keys, networkRules: rules };
}

/** `fn` over `items`, `concurrency` at a time, answers in the items' order. */
export async function mapFewAtATime<T, R>(items: readonly T[], fn: (item: T) => Promise<R>, concurrency = READ_CONCURRENCY): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}
