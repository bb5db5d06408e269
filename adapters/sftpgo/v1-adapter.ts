/**
 * The SFTPGo REST API v1 adapter: the gateway's provider-neutral calls carried to SFTPGo's REST API
 * (`/api/v1`) as real servers serve it: 0.9.x in the seed's shape (seeds/sftpgo-openapi-1.2.0.yaml)
 * and 1.x in the map shape (reference/sftpgo-v1.2.2-openapi.yaml and its recordings), told apart
 * by the server (./server.ts). The real server's quirks are handled in this folder: offset paging
 * without a status filter (./users.ts), a `PUT /user/{id}` that must carry the whole user
 * (read-merge-write under a per-user mutex, every field the server sent kept: ./backend.ts),
 * duplicates answered as 500, `/version` as object or array.
 *
 * This file builds the adapter: one backend's state (./backend.ts) and an object whose methods
 * hand it to the operations (./users.ts, ./user-access.ts, ./connections-and-scans.ts, ./health.ts).
 */
import {
  isOperationCapability,
  type AdapterDeps, type Operations, type Permission,
} from '../../src/provider-kit/index.js';
import type { VersionedAdapter } from './api-version.js';
import { createSftpgoBackend } from './backend.js';
import { SFTPGO_FIELDS } from './fields.js';
import { operationsOver } from './operations.js';
import type { SftpgoBackendConfig } from './config.js';
import { closeConnection, listConnections, listQuotaScans, startQuotaScan } from './connections-and-scans.js';
import { health, server } from './health.js';
import { networkRuleRefusal, usernameRefusal, vocabularyOfShape, type V1Shape } from './mapping.js';
import { sftpgoNaming } from './naming.js';
import {
  addSshKey, deleteSshKey, listNetworkRules, listSshKeys, replaceNetworkRules, rotatePassword, setPassword,
} from './user-access.js';
import { createUser, deleteUser, getUser, listUsers, updateUser } from './users.js';

/**
 * Builds the adapter for one SFTPGo backend. Config is checked and the client built here, once.
 *
 * @example
 * const adapter = createSftpgoV1Adapter(
 *   { provider: 'sftpgo', apiVersion: 'v1', baseUrl: 'http://127.0.0.1:8081', sftpPort: 2022,
 *     sftpHost: 'sftp.example.com', homeDirectoryBase: '/srv/sftpgo/data', timeoutMs: 5000 },
 *   { backend: 'onprem' },
 * );
 */
export function createSftpgoV1Adapter(config: SftpgoBackendConfig, deps: AdapterDeps): VersionedAdapter {
  const b = createSftpgoBackend(config, deps);
  const shape = () => b.probe.shape();

  const all = operationsOver(b, {
    rotatePassword, setPassword, listSshKeys, addSshKey, deleteSshKey, listNetworkRules, replaceNetworkRules,
    listConnections, closeConnection, listQuotaScans, startQuotaScan,
  });
  // 0.9.x has no network rules (its users have no filters.allowed_ip).
  const { networkRules: _onlyOn1x, ...operations09x } = all;
  const operationsByShape: Record<V1Shape, Operations> = { list: Object.freeze(operations09x), map: all };

  return {
    provider: 'sftpgo',
    get fields() {
      return SFTPGO_FIELDS[shape()];
    },
    get operations() {
      return operationsByShape[shape()];
    },
    get permissions(): readonly Permission[] {
      return vocabularyOfShape(shape()).names;
    },
    server: () => server(b),
    naming: sftpgoNaming(() => server(b)),
    usernameRefusal,
    networkRuleRefusal,
    async resolve(ctx, capability) {
      // Only what differs between the shapes needs the server found first.
      const differs = isOperationCapability(capability)
        ? (operationsByShape.list[capability] === undefined) !== (operationsByShape.map[capability] === undefined)
        : SFTPGO_FIELDS.list[capability] !== SFTPGO_FIELDS.map[capability];
      if (differs) await b.probe.ensure(ctx);
    },
    listUsers: (q, ctx) => listUsers(b, q, ctx),
    getUser: (id, ctx) => getUser(b, id, ctx),
    createUser: (input, ctx) => createUser(b, input, ctx),
    updateUser: (id, patch, ctx) => updateUser(b, id, patch, ctx),
    deleteUser: (id, ctx) => deleteUser(b, id, ctx),
    health: (ctx) => health(b, ctx),
    identify: async (ctx) => void (await b.probe.ensure(ctx)),
    circuit: deps.breaker?.state.bind(deps.breaker),
  };
}
