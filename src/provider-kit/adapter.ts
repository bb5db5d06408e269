/**
 * The one interface every provider adapter implements. Required methods are what every SFTP
 * provider does. What only some backends can do is a capability (CONTRACT §2): a field flag in
 * `fields`, or a group of operations in `operations` that the backend has exactly when it is
 * capable — `capabilitiesOf` reads both, so a flag and its methods can never disagree. Routes
 * answer 501 where a backend lacks the capability, and never branch on the provider's name.
 */
import {
  CAPABILITIES,
  type AdapterUser, type Capabilities, type Capability, type Connection, type FixedLevel, type NetworkRule, type NetworkRuleInput,
  type PasswordRotation, type Permission, type Provider, type QuotaScan, type SshKey, type UserCreate, type UserPatch,
} from '../domain/model.js';
import type { ListUsersQuery } from '../domain/paging.js';
import type { ParsedSshKey } from '../domain/ssh-key.js';
import type { CircuitBreaker, CircuitState } from '../reliability/circuit-breaker.js';
import type { CallContext, UpstreamTransport } from '../reliability/upstream.js';

export type { CallContext, ListUsersQuery };

export interface UserPage {
  data: AdapterUser[];
  /** The position to resume from, or null when this page is the last. */
  nextOffset: number | null;
}

export interface CreatedUserResult {
  user: AdapterUser;
  /** Set when the gateway or the provider generated the password: returned once to the caller. */
  generatedPassword?: string;
}

export interface HealthResult {
  ok: boolean;
  detail: string;
}

/** What a backend's server was found to be (CONTRACT §2 `Backend`); null until first reached. */
export interface ServerInfo {
  apiVersion: string | null;
  serverVersion: string | null;
}

/**
 * How a provider names and keeps users, beyond its fields and operations: what a migration must
 * know of a target before any write (docs/providers.md).
 */
export interface ProviderNaming {
  /** How messages name its server, as known now: `SFTP To Go`, `SFTPGo 1.2.2`. */
  label(): string;
  /** The access levels it can store at a user's root. */
  readonly rootLevels: readonly FixedLevel[];
  /**
   * How it names home directories: SFTP To Go's are paths inside the organization's storage
   * (`/`, `/acme`), SFTPGo's absolute paths on the server's disk. Homes are compared and carried
   * only between providers that name them alike.
   */
  readonly homes: 'storage' | 'filesystem';
  /** Whether it may store usernames lower-cased (SFTPGo 2.x `naming_rules`); as certain as `fields`. */
  mayLowercase(): boolean;
}

/** The operations that come with a capability: a backend has the group exactly when it is capable. */
export interface CapabilityOperations {
  passwordRotation: { rotatePassword(id: string, ctx: CallContext): Promise<PasswordRotation> };
  passwordSet: { setPassword(id: string, password: string, ctx: CallContext): Promise<void> };
  sshKeys: {
    listSshKeys(id: string, ctx: CallContext): Promise<SshKey[]>;
    addSshKey(id: string, key: ParsedSshKey, ctx: CallContext): Promise<SshKey>;
    deleteSshKey(id: string, keyId: string, ctx: CallContext): Promise<void>;
  };
  networkRules: {
    listNetworkRules(id: string, ctx: CallContext): Promise<NetworkRule[]>;
    replaceNetworkRules(id: string, rules: NetworkRuleInput[], ctx: CallContext): Promise<NetworkRule[]>;
  };
  connections: {
    listConnections(ctx: CallContext): Promise<Connection[]>;
    closeConnection(connectionId: string, ctx: CallContext): Promise<void>;
  };
  quotaScans: {
    listQuotaScans(ctx: CallContext): Promise<QuotaScan[]>;
    startQuotaScan(id: string, ctx: CallContext): Promise<void>;
  };
}
export type OperationCapability = keyof CapabilityOperations;
/** A capability that is a matter of which fields a backend holds, with no operations of its own. */
export type FieldCapability = Exclude<Capability, OperationCapability>;
export type FieldCapabilities = Readonly<Record<FieldCapability, boolean>>;
export type Operations = Readonly<Partial<CapabilityOperations>>;

/** The operation capabilities, at run time: the type makes it list exactly CapabilityOperations' keys. */
const OPERATION_CAPABILITIES: Readonly<Record<OperationCapability, true>> = {
  passwordRotation: true, passwordSet: true, sshKeys: true, networkRules: true, connections: true, quotaScans: true,
};

export const isOperationCapability = (c: Capability): c is OperationCapability => Object.hasOwn(OPERATION_CAPABILITIES, c);

export interface ProviderAdapter {
  readonly provider: Provider;
  /**
   * Which fields this backend can hold, as known now. Where it depends on the server's version,
   * it is certain only after `resolve`; before, the adapter says what it assumes.
   */
  readonly fields: FieldCapabilities;
  /** The operations this backend has, as known now (as certain as `fields`). */
  readonly operations: Operations;
  /** The permission names this backend can grant, in canonical order (as certain as `fields`). */
  readonly permissions: readonly Permission[];
  /** Why this backend refuses `username` whatever its state (its provider's own rule, checked before any call), or undefined. */
  usernameRefusal(username: string): string | undefined;
  /** Why this backend cannot hold `rule` as it is (it would be lost or widen access), or undefined. */
  networkRuleRefusal(rule: Pick<NetworkRule, 'protocol' | 'enabled' | 'description'>): string | undefined;
  /** How it names and keeps users (a migration's target rules). */
  readonly naming: ProviderNaming;
  /** The server's API and own version, as found; absent where the provider has neither. */
  server?(): ServerInfo;
  /**
   * Where what the backend can do about `capability` depends on the server's version: finds the
   * server (one call, the first time), so `fields`, `operations` and `permissions` are certain.
   * Absent where they never change. Throws the gateway's error when the server cannot be told.
   */
  resolve?(ctx: CallContext, capability: Capability): Promise<void>;

  listUsers(query: ListUsersQuery, ctx: CallContext): Promise<UserPage>;
  /**
   * Every user in one call, for providers whose API has no paging (SFTP To Go). Such an adapter
   * implements listUsers with `pageOfAll` (src/domain/paging.ts), and the cache can keep the whole list.
   */
  listAllUsers?(ctx: CallContext): Promise<AdapterUser[]>;
  getUser(id: string, ctx: CallContext): Promise<AdapterUser>;
  createUser(input: UserCreate, ctx: CallContext): Promise<CreatedUserResult>;
  /**
   * The user's current password, where the provider reveals it (SFTP To Go); absent where it never
   * does (SFTPGo). Null when the user has none. Only migrations read it: never log it or answer it.
   */
  revealPassword?(id: string, ctx: CallContext): Promise<string | null>;
  updateUser(id: string, patch: UserPatch, ctx: CallContext): Promise<AdapterUser>;
  deleteUser(id: string, ctx: CallContext): Promise<void>;
  /** A live check of the upstream; never throws. */
  health(ctx: CallContext): Promise<HealthResult>;
  /** The state of the backend's circuit breaker, when it has one (never calls upstream). */
  circuit?(): CircuitState;
}

/** Every capability of a backend, as known now: its field flags, and which operation groups it has. */
export function capabilitiesOf(adapter: Pick<ProviderAdapter, 'fields' | 'operations'>): Capabilities {
  const { fields, operations } = adapter;
  return Object.fromEntries(
    CAPABILITIES.map((c) => [c, isOperationCapability(c) ? operations[c] !== undefined : fields[c]]),
  ) as Capabilities;
}

/** Everything an adapter factory gets besides its own backend config. */
export interface AdapterDeps {
  backend: string;
  /** Injected so tests and demo mode can route calls to an in-process emulator. */
  fetch?: typeof fetch;
  /** How the client reaches the upstream when no `fetch` is injected (Node: src/node/transport.ts's undici Pool). */
  transport?: UpstreamTransport;
  /** The backend's circuit breaker, given to its UpstreamClient; none = calls always go upstream. */
  breaker?: CircuitBreaker;
  /** Reports each upstream call's outcome (`2xx`…`5xx`, `timeout`, `unreachable`, `open-circuit`) and duration, for metrics. */
  observeUpstream?: (outcome: string, seconds: number) => void;
}
