/** The SFTP To Go provider, as the registry (src/providers.ts) lists it. */
import type { ProviderDefinition } from '../../src/provider-kit/index.js';
import { createSftpToGoAdapter } from './adapter.js';
import { SftpToGoBackendConfig } from './config.js';

export { createSftpToGoAdapter, SFTPTOGO_FIELDS } from './adapter.js';
export { SftpToGoBackendConfig } from './config.js';

export const sftpToGoProvider: ProviderDefinition<SftpToGoBackendConfig> = {
  name: 'sftptogo',
  configSchema: SftpToGoBackendConfig,
  decisiveSettings: (c) => [c.baseUrl.replace(/\/+$/, ''), c.organizationId],
  createAdapter: createSftpToGoAdapter,
};
