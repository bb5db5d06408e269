/**
 * The SFTP To Go adapter: the gateway's provider-neutral calls carried to the SFTP To Go
 * credentials API (`/organizations/{organizationId}`, seeds/sftptogo-api.txt). What the API does
 * not do the gateway does around it: paging of its one unpaged list, keys and rules added after a
 * create (and the credential deleted again when they fail), the root credential protected, the
 * password that every read carries kept out of every answer but the create and the rotation.
 *
 * This file is the factory; the operations live by subject in users.ts, keys-and-rules.ts and
 * health.ts, each taking the backend's state (backend.ts) as its first argument.
 */
import {
  BASIC_VOCABULARY, FIXED_LEVELS, type AdapterDeps, type FieldCapabilities, type ProviderAdapter, type ProviderNaming,
} from '../../src/provider-kit/index.js';
import { createSftpToGoBackend } from './backend.js';
import type { SftpToGoBackendConfig } from './config.js';
import { health } from './health.js';
import { usernameRefusal } from './mapping.js';
import {
  addSshKey, deleteSshKey, listNetworkRules, listSshKeys, replaceNetworkRules,
} from './keys-and-rules.js';
import {
  createUser, deleteUser, getUser, listAllUsers, listUsers, revealPassword, rotatePassword, updateUser,
} from './users.js';

/** The fields of the sftptogo column of CONTRACT §2 (its operations are the adapter's `operations`). */
export const SFTPTOGO_FIELDS: FieldCapabilities = Object.freeze({
  displayName: true,
  independentChroot: true,
  rename: true,
  expiration: false,
  limits: false,
  usage: false,
  customPermissions: false,
  directoryPermissions: false,
});

/**
 * Builds the adapter for one SFTP To Go backend. Config is checked and the client built here, once
 * (createSftpToGoBackend); every method works on that one state.
 *
 * @example
 * const adapter = createSftpToGoAdapter(
 *   { provider: 'sftptogo', baseUrl: 'https://api.sftptogo.com', organizationId: 'org-id', apiKey: 'key', timeoutMs: 10_000 },
 *   { backend: 'togo' },
 * );
 */
/** How SFTP To Go names and keeps users (docs/providers.md): homes are paths in the organization's storage. */
const SFTPTOGO_NAMING: ProviderNaming = {
  label: () => 'SFTP To Go',
  rootLevels: FIXED_LEVELS,
  homes: 'storage',
  mayLowercase: () => false,
};

export function createSftpToGoAdapter(config: SftpToGoBackendConfig, deps: AdapterDeps): ProviderAdapter {
  const b = createSftpToGoBackend(config, deps);
  return {
    provider: 'sftptogo',
    fields: SFTPTOGO_FIELDS,
    // No caller-chosen passwords, connections or quota scans: SFTP To Go's API has none.
    operations: Object.freeze({
      passwordRotation: { rotatePassword: (id, ctx) => rotatePassword(b, id, ctx) },
      sshKeys: {
        listSshKeys: (id, ctx) => listSshKeys(b, id, ctx),
        addSshKey: (id, key, ctx) => addSshKey(b, id, key, ctx),
        deleteSshKey: (id, keyId, ctx) => deleteSshKey(b, id, keyId, ctx),
      },
      networkRules: {
        listNetworkRules: (id, ctx) => listNetworkRules(b, id, ctx),
        replaceNetworkRules: (id, rules, ctx) => replaceNetworkRules(b, id, rules, ctx),
      },
    }),
    permissions: BASIC_VOCABULARY.names,
    listUsers: (q, ctx) => listUsers(b, q, ctx),
    listAllUsers: (ctx) => listAllUsers(b, ctx),
    getUser: (id, ctx) => getUser(b, id, ctx),
    createUser: (input, ctx) => createUser(b, input, ctx),
    revealPassword: (id, ctx) => revealPassword(b, id, ctx),
    naming: SFTPTOGO_NAMING,
    usernameRefusal,
    networkRuleRefusal: () => undefined, // it holds a protocol, a state and a description per rule
    updateUser: (id, patch, ctx) => updateUser(b, id, patch, ctx),
    deleteUser: (id, ctx) => deleteUser(b, id, ctx),
    health: (ctx) => health(b, ctx),
    circuit: deps.breaker?.state.bind(deps.breaker),
  };
}
