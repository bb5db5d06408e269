/** The SFTPGo provider (REST API v1: SFTPGo 0.9.x and 1.x; v2: SFTPGo 2.x), as the registry (src/providers.ts) lists it. */
import type { ProviderDefinition } from '../../src/provider-kit/index.js';
import { createSftpgoAdapter } from './adapter.js';
import { SftpgoBackendConfig } from './config.js';

export { createSftpgoAdapter } from './adapter.js';
export { SFTPGO_FIELDS, SFTPGO_V2_FIELDS } from './fields.js';
export { SftpgoBackendConfig } from './config.js';

export const sftpgoProvider: ProviderDefinition<SftpgoBackendConfig> = {
  name: 'sftpgo',
  configSchema: SftpgoBackendConfig,
  // Its answers carry the configured SFTP host and port (`host`, `uri`).
  decisiveSettings: (c) => [c.baseUrl.replace(/\/+$/, ''), c.apiVersion, c.sftpHost ?? null, c.sftpPort],
  createAdapter: createSftpgoAdapter,
};
