/**
 * What a provider refuses or stores differently, as far as a plan must know it before any write.
 * The adapter interface says which fields and operations a backend has; these are the rules it
 * does not say (docs/providers.md): which usernames a provider refuses, which levels it cannot
 * store, which network rules it cannot hold, how it names home directories, and whether it may
 * fold usernames to lower case.
 */
import type { NetworkRule, Provider } from '../domain/model.js';
import type { ServerInfo } from '../provider-kit/adapter.js';
import type { FixedLevel } from './plan-types.js';

export interface ProviderRules {
  /** How messages name a server of this provider: `SFTP To Go`, `SFTPGo 1.2.2`. */
  label(server: ServerInfo | undefined): string;
  /** Why the provider refuses this username whatever its settings, or undefined. */
  usernameRefusal(username: string): string | undefined;
  /** The access levels it can store at a user's root. */
  readonly rootLevels: readonly FixedLevel[];
  /** Why it cannot hold this rule as it is, or undefined. */
  ruleRefusal(rule: NetworkRule): string | undefined;
  /**
   * How it names home directories: SFTP To Go's are paths inside the organization's storage
   * (`/`, `/acme`), SFTPGo's absolute paths on the server's disk. Homes are compared only
   * between providers that name them alike.
   */
  readonly homes: 'storage' | 'filesystem';
  /** Whether a server like this may store usernames lower-cased (SFTPGo 2.x `naming_rules`). */
  mayLowercase(server: ServerInfo | undefined): boolean;
}

const ALL_LEVELS: readonly FixedLevel[] = ['none', 'read-only', 'write-only', 'read-write', 'full'];

/** SFTP To Go's create documentation: 10 to 100 letters, digits, `_`, `-` or `.`. */
const SFTPTOGO_USERNAME = /^[A-Za-z0-9_.-]{10,100}$/;
const SFTPGO_USERNAME_MAX = 255;

const sftpToGo: ProviderRules = {
  label: () => 'SFTP To Go',
  usernameRefusal: (name) =>
    SFTPTOGO_USERNAME.test(name) ? undefined : 'SFTP To Go usernames are 10 to 100 letters, digits, underscores, hyphens or periods',
  rootLevels: ALL_LEVELS,
  ruleRefusal: () => undefined, // it holds a protocol, a state and a description per rule
  homes: 'storage',
  mayLowercase: () => false,
};

const sftpgo: ProviderRules = {
  label: (server) => (server?.serverVersion ? `SFTPGo ${server.serverVersion}` : 'SFTPGo'),
  usernameRefusal(name) {
    if (name.length === 0 || name.length > SFTPGO_USERNAME_MAX) return `SFTPGo usernames are 1 to ${SFTPGO_USERNAME_MAX} characters`;
    if (name.includes('/')) return 'SFTPGo usernames must not hold "/"';
    if (name.trim() !== name) return 'SFTPGo usernames must not begin or end with a space';
    return undefined;
  },
  // SFTPGo needs one permission at least at `/`.
  rootLevels: ALL_LEVELS.filter((l) => l !== 'none'),
  ruleRefusal(rule) {
    const lost = [
      rule.protocol !== 'any' ? `its protocol (${rule.protocol})` : undefined,
      !rule.enabled ? 'its disabled state' : undefined,
      rule.description ? 'its description' : undefined,
    ].filter((x): x is string => x !== undefined);
    if (lost.length === 0) return undefined;
    return `SFTPGo keeps only the CIDR of a rule (enabled, every protocol, no description): it cannot hold ${lost.join(', ')}`;
  },
  homes: 'filesystem',
  // 1.x has no naming rules; 2.x may lowercase, as its data provider is set up.
  mayLowercase: (server) => server?.apiVersion === 'v2',
};

const RULES: Readonly<Record<Provider, ProviderRules>> = { sftptogo: sftpToGo, sftpgo };

export const rulesOf = (provider: Provider): ProviderRules => RULES[provider];
