/** The SFTPGo provider (REST API v1: SFTPGo 0.9.x and 1.x), as the registry (src/providers.ts) lists it. */
import type { ProviderDefinition } from '../../src/provider-kit/index.js';
import { createSftpgoAdapter } from './adapter.js';
import { SftpgoBackendConfig } from './config.js';

export { createSftpgoAdapter, SFTPGO_FIELDS } from './adapter.js';
export { SftpgoBackendConfig } from './config.js';

export const sftpgoProvider: ProviderDefinition<SftpgoBackendConfig> = {
  name: 'sftpgo',
  configSchema: SftpgoBackendConfig,
  // Its answers carry the configured SFTP host and port (`host`, `uri`).
  decisiveSettings: (c) => [c.baseUrl.replace(/\/+$/, ''), c.apiVersion, c.sftpHost ?? null, c.sftpPort],
  createAdapter: createSftpgoAdapter,
};
