/**
 * The capability operations of an SFTPGo adapter (CONTRACT §2), over one backend's state: API v1
 * and v2 have the same groups, each built on its own calls (./user-access.ts or
 * ./v2-user-access.ts, and their connections-and-scans).
 */
import type {
  CallContext, CapabilityOperations, Connection, NetworkRule, NetworkRuleInput, ParsedSshKey, PasswordRotation, QuotaScan,
  SshKey,
} from '../../src/provider-kit/index.js';

/** One API version's calls, each taking the backend's state first. */
export interface OperationCalls<B> {
  rotatePassword(b: B, id: string, ctx: CallContext): Promise<PasswordRotation>;
  setPassword(b: B, id: string, password: string, ctx: CallContext): Promise<void>;
  listSshKeys(b: B, id: string, ctx: CallContext): Promise<SshKey[]>;
  addSshKey(b: B, id: string, key: ParsedSshKey, ctx: CallContext): Promise<SshKey>;
  deleteSshKey(b: B, id: string, keyId: string, ctx: CallContext): Promise<void>;
  listNetworkRules(b: B, id: string, ctx: CallContext): Promise<NetworkRule[]>;
  replaceNetworkRules(b: B, id: string, rules: NetworkRuleInput[], ctx: CallContext): Promise<NetworkRule[]>;
  listConnections(b: B, ctx: CallContext): Promise<Connection[]>;
  closeConnection(b: B, connectionId: string, ctx: CallContext): Promise<void>;
  listQuotaScans(b: B, ctx: CallContext): Promise<QuotaScan[]>;
  startQuotaScan(b: B, id: string, ctx: CallContext): Promise<void>;
}

/** Every operation group, over `b`. */
export function operationsOver<B>(b: B, calls: OperationCalls<B>): Readonly<CapabilityOperations> {
  return Object.freeze({
    passwordRotation: { rotatePassword: (id, ctx) => calls.rotatePassword(b, id, ctx) },
    passwordSet: { setPassword: (id, password, ctx) => calls.setPassword(b, id, password, ctx) },
    sshKeys: {
      listSshKeys: (id, ctx) => calls.listSshKeys(b, id, ctx),
      addSshKey: (id, key, ctx) => calls.addSshKey(b, id, key, ctx),
      deleteSshKey: (id, keyId, ctx) => calls.deleteSshKey(b, id, keyId, ctx),
    },
    networkRules: {
      listNetworkRules: (id, ctx) => calls.listNetworkRules(b, id, ctx),
      replaceNetworkRules: (id, rules, ctx) => calls.replaceNetworkRules(b, id, rules, ctx),
    },
    connections: {
      listConnections: (ctx) => calls.listConnections(b, ctx),
      closeConnection: (connectionId, ctx) => calls.closeConnection(b, connectionId, ctx),
    },
    quotaScans: {
      listQuotaScans: (ctx) => calls.listQuotaScans(b, ctx),
      startQuotaScan: (id, ctx) => calls.startQuotaScan(b, id, ctx),
    },
  } satisfies CapabilityOperations);
}
