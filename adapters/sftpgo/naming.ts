/** How SFTPGo names and keeps users, as a migration to it must know (docs/providers.md). */
import { FIXED_LEVELS, type FixedLevel, type ProviderNaming, type ServerInfo } from '../../src/provider-kit/index.js';

/** Every level but "none": SFTPGo needs one permission at least at a user's `/`. */
const ROOT_LEVELS: readonly FixedLevel[] = FIXED_LEVELS.filter((l) => l !== 'none');

/** @example sftpgoNaming(() => ({ apiVersion: 'v1', serverVersion: '1.2.2' })).label() // 'SFTPGo 1.2.2' */
export function sftpgoNaming(server: () => ServerInfo): ProviderNaming {
  return {
    label: () => {
      const version = server().serverVersion;
      return version ? `SFTPGo ${version}` : 'SFTPGo';
    },
    rootLevels: ROOT_LEVELS,
    // Homes are absolute paths on the server's disk.
    homes: 'filesystem',
    // 1.x has no naming rules; 2.x may lowercase, as its data provider is set up.
    mayLowercase: () => server().apiVersion === 'v2',
  };
}
