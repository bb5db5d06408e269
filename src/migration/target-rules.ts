/**
 * What a provider refuses or stores differently, as far as a plan must know it before any write.
 * The adapter says which fields and operations a backend has, and which usernames and network
 * rules it refuses; these are the rules it does not say (docs/providers.md): which levels it
 * cannot store at a user's root, how it names home directories, and whether it may fold usernames
 * to lower case.
 */
import type { Provider } from '../domain/model.js';
import type { ServerInfo } from '../provider-kit/adapter.js';
import type { FixedLevel } from './plan-types.js';

export interface ProviderRules {
  /** How messages name a server of this provider: `SFTP To Go`, `SFTPGo 1.2.2`. */
  label(server: ServerInfo | undefined): string;
  /** The access levels it can store at a user's root. */
  readonly rootLevels: readonly FixedLevel[];
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

const sftpToGo: ProviderRules = {
  label: () => 'SFTP To Go',
  rootLevels: ALL_LEVELS,
  homes: 'storage',
  mayLowercase: () => false,
};

const sftpgo: ProviderRules = {
  label: (server) => (server?.serverVersion ? `SFTPGo ${server.serverVersion}` : 'SFTPGo'),
  // SFTPGo needs one permission at least at `/`.
  rootLevels: ALL_LEVELS.filter((l) => l !== 'none'),
  homes: 'filesystem',
  // 1.x has no naming rules; 2.x may lowercase, as its data provider is set up.
  mayLowercase: (server) => server?.apiVersion === 'v2',
};

const RULES: Readonly<Record<Provider, ProviderRules>> = { sftptogo: sftpToGo, sftpgo };

export const rulesOf = (provider: Provider): ProviderRules => RULES[provider];
