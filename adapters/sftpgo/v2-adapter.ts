/**
 * The SFTPGo REST API v2 adapter (SFTPGo 2.x, as reference/sftpgo-v2.7.5-openapi.yaml and the
 * recordings of a real 2.7.5 server show it): users addressed by username, an API key or a
 * token for credentials (./v2-credentials.ts), a PUT that replaces the whole user (read-merge-
 * write under a per-user mutex: ./v2-users.ts), all sixteen permission names, `description` as
 * the display name. This file builds the adapter over one backend's state (./v2-backend.ts).
 */
import { PERMISSIONS, type AdapterDeps } from '../../src/provider-kit/index.js';
import type { VersionedAdapter } from './api-version.js';
import type { SftpgoBackendConfig } from './config.js';
import { networkRuleRefusal, usernameRefusal } from './mapping.js';
import { sftpgoNaming } from './naming.js';
import { operationsOver } from './operations.js';
import { SFTPGO_V2_FIELDS } from './fields.js';
import { createSftpgoV2Backend, ensureServerV2 } from './v2-backend.js';
import { closeConnectionV2, listConnectionsV2, listQuotaScansV2, startQuotaScanV2 } from './v2-connections-and-scans.js';
import { healthV2, serverV2 } from './v2-health.js';
import {
  addSshKeyV2, deleteSshKeyV2, listNetworkRulesV2, listSshKeysV2, replaceNetworkRulesV2, rotatePasswordV2, setPasswordV2,
} from './v2-user-access.js';
import { createUserV2, deleteUserV2, getUserV2, listUsersV2, updateUserV2 } from './v2-users.js';

export function createSftpgoV2Adapter(config: SftpgoBackendConfig, deps: AdapterDeps): VersionedAdapter {
  const b = createSftpgoV2Backend(config, deps);
  const operations = operationsOver(b, {
    rotatePassword: rotatePasswordV2, setPassword: setPasswordV2, listSshKeys: listSshKeysV2, addSshKey: addSshKeyV2,
    deleteSshKey: deleteSshKeyV2, listNetworkRules: listNetworkRulesV2, replaceNetworkRules: replaceNetworkRulesV2,
    listConnections: listConnectionsV2, closeConnection: closeConnectionV2, listQuotaScans: listQuotaScansV2,
    startQuotaScan: startQuotaScanV2,
  });
  return {
    provider: 'sftpgo',
    fields: SFTPGO_V2_FIELDS,
    operations,
    permissions: PERMISSIONS,
    server: () => serverV2(b),
    naming: sftpgoNaming(() => serverV2(b)),
    usernameRefusal,
    networkRuleRefusal,
    listUsers: (q, ctx) => listUsersV2(b, q, ctx),
    getUser: (id, ctx) => getUserV2(b, id, ctx),
    createUser: (input, ctx) => createUserV2(b, input, ctx),
    updateUser: (id, patch, ctx) => updateUserV2(b, id, patch, ctx),
    deleteUser: (id, ctx) => deleteUserV2(b, id, ctx),
    health: (ctx) => healthV2(b, ctx),
    identify: async (ctx) => void (await ensureServerV2(b, ctx)),
    circuit: deps.breaker?.state.bind(deps.breaker),
  };
}
