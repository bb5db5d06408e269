/** Each emulator's backdoor as the conformance suite reads it: one per provider, for every runner. */
import type { SftpgoEmulator } from '../../adapters/sftpgo/emulator/emulator.js';
import type { SftpgoV2Emulator } from '../../adapters/sftpgo/emulator/v2.js';
import type { SftpToGoEmulator } from '../../adapters/sftptogo/emulator/emulator.js';
import type { UpstreamBackdoor } from './suite.js';

/** An SFTPGo emulator's first live connection (either API version). */
function firstConnectionId(connections: ReadonlyArray<Record<string, unknown>>): string {
  const id = connections[0]?.connection_id;
  if (typeof id !== 'string') throw new Error('the emulator has no connection left');
  return id;
}

export function sftpgoBackdoor(emu: SftpgoEmulator): UpstreamBackdoor {
  const byName = (username: string) => [...emu.users.values()].find((u) => u.username === username);
  return {
    requests: () => emu.requests.map(({ method, path, body }) => ({ method, path, body })),
    clearRequests: () => emu.clearRequests(),
    usernames: () => [...emu.users.values()].map((u) => u.username),
    passwordOf: (username) => byName(username)?.password,
    setStored: (username, bytes, files) => emu.setStored(username, bytes, files),
    someConnectionId: () => firstConnectionId(emu.connections),
    // 0.9.x users have only permissions, uid and gid beyond the model; 1.x ones much more.
    enrich: (username) => {
      const u = byName(username);
      if (!u) throw new Error(`no user ${username}`);
      u.uid = 1001;
      u.gid = 1002;
      u.extra = { future_field: { added_by: 'a later server', list: [1, 2] } };
      if (emu.version.startsWith('0.')) return;
      u.permissions = { ...u.permissions, '/legacy': ['*'], '/drop': ['upload'] };
      // As 1.2.2 stores them: no empty lists in filters, virtual folders on a local filesystem only.
      u.filters = {
        ...u.filters,
        denied_ip: ['10.9.9.0/24'], denied_login_methods: ['keyboard-interactive'], denied_protocols: ['FTP'],
        file_patterns: [{ path: '/', denied_patterns: ['*.exe'] }], max_upload_file_size: 1_048_576,
      };
      u.virtual_folders = [{
        id: 1, mapped_path: '/srv/shared-folder', used_quota_size: 0, used_quota_files: 0, last_quota_update: 0,
        virtual_path: '/shared', quota_size: -1, quota_files: -1,
      }];
    },
    unmodeled: (username) => {
      const u = byName(username);
      if (!u) throw new Error(`no user ${username}`);
      const { allowed_ip: _modeled, ...filters } = u.filters ?? {};
      return structuredClone({
        permissions: u.permissions, filters, filesystem: u.filesystem, virtual_folders: u.virtual_folders,
        uid: u.uid, gid: u.gid, extra: u.extra,
      });
    },
    removePassword: (username) => {
      const u = byName(username);
      if (u) delete u.password;
    },
  };
}

/** SFTPGo 2.x: users by username, every field of the Go struct stored (the password too, '' when none). */
export function sftpgoV2Backdoor(emu: SftpgoV2Emulator): UpstreamBackdoor {
  const byName = (username: string) => {
    const u = emu.users.get(username);
    if (!u) throw new Error(`no user ${username}`);
    return u;
  };
  return {
    // What the server took as the admin's: a call refused 401 (a token from before a restart) wrote nothing.
    requests: () => emu.requests.filter((r) => r.status !== 401).map(({ method, path, body }) => ({ method, path, body })),
    clearRequests: () => emu.clearRequests(),
    usernames: () => [...emu.users.keys()],
    passwordOf: (username) => {
      const password = emu.users.get(username)?.password;
      return typeof password === 'string' && password !== '' ? password : undefined;
    },
    setStored: (username, bytes, files) => emu.setStored(username, bytes, files),
    someConnectionId: () => firstConnectionId(emu.connections),
    // Everything 2.x stores that the model does not carry, as a real server would hold it.
    enrich: (username) => {
      const u = byName(username);
      u.uid = 1001;
      u.gid = 1002;
      u.email = 'ops@example.com';
      u.additional_info = 'kept by every write';
      u.role = 'ops-role';
      u.groups = [{ name: 'team', type: 2 }];
      u.oidc_custom_fields = { department: 'ops' };
      u.virtual_folders = [{ id: 1, name: 'shared', mapped_path: '/srv/shared', description: '', virtual_path: '/shared', quota_size: -1, quota_files: -1 }];
      u.permissions = { ...(u.permissions as Record<string, string[]>), '/legacy': ['*'], '/drop': ['upload'] };
      u.filters = {
        ...(u.filters as Record<string, unknown>),
        denied_ip: ['10.9.9.0/24'], denied_login_methods: ['keyboard-interactive'], denied_protocols: ['FTP'],
        // As the server stores a decoded body: every field of sdk.PatternsFilter.
        file_patterns: [{ path: '/', allowed_patterns: null, denied_patterns: ['*.exe'], deny_policy: 0 }], max_upload_file_size: 1_048_576,
      };
      u.upload_data_transfer = 100;
      u.download_data_transfer = 200;
      u.total_data_transfer = 300;
    },
    unmodeled: (username) => {
      const u = byName(username);
      const { allowed_ip: _modeled, ...filters } = (u.filters ?? {}) as Record<string, unknown>;
      return structuredClone({
        permissions: u.permissions, filters, filesystem: u.filesystem, virtual_folders: u.virtual_folders, groups: u.groups,
        uid: u.uid, gid: u.gid, email: u.email, additional_info: u.additional_info, role: u.role,
        upload_data_transfer: u.upload_data_transfer, download_data_transfer: u.download_data_transfer,
        total_data_transfer: u.total_data_transfer, oidc_custom_fields: u.oidc_custom_fields,
      });
    },
    removePassword: (username) => {
      byName(username).password = '';
    },
  };
}

export function sftptogoBackdoor(emu: SftpToGoEmulator): UpstreamBackdoor {
  const byName = (username: string) => [...emu.credentials.values()].find((c) => c.UserName === username);
  return {
    requests: () => emu.requests.map(({ method, path, body }) => ({ method, path, body })),
    clearRequests: () => emu.clearRequests(),
    // The root credential is there from the start, like on a real organization.
    usernames: () => [...emu.credentials.values()].map((c) => c.UserName),
    passwordOf: (username) => byName(username)?.Password,
  };
}
