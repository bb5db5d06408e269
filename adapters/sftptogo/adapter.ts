/**
 * Placeholder until the SFTP To Go adapter lands (issue 3): the backend can be configured and
 * listed, claims no optional capability, and answers 501 on every route instead of guessing.
 */
import type { AdapterDeps, ProviderAdapter } from '../../src/adapter.js';
import type { SftpToGoBackendConfig } from '../../src/config.js';
import { unsupportedEndpoint } from '../../src/errors.js';
import { CAPABILITIES, type Capabilities } from '../../src/model.js';

const NONE = Object.fromEntries(CAPABILITIES.map((c) => [c, false])) as Capabilities;

export function createSftpToGoAdapter(_config: SftpToGoBackendConfig, _deps: AdapterDeps): ProviderAdapter {
  const notYet = async (): Promise<never> => {
    throw unsupportedEndpoint('The SFTP To Go adapter is not implemented in this version of the gateway');
  };
  return {
    provider: 'sftptogo',
    capabilities: NONE,
    listUsers: notYet,
    getUser: notYet,
    createUser: notYet,
    updateUser: notYet,
    deleteUser: notYet,
    health: async () => ({ ok: false, detail: 'the SFTP To Go adapter is not implemented in this version' }),
  };
}
