/**
 * The examples of the OpenAPI document's request bodies and answers: one SFTPGo 1.x backend
 * (`onprem`) and one SFTP To Go backend (`togo`). Typed by the schemas they illustrate, and checked
 * against them again by test/openapi-document.test.ts, so an example cannot drift from the code.
 */
import type { z } from '@hono/zod-openapi';
import type {
  Backend, Capabilities, Connection, NetworkRule, NetworkRuleInput, PasswordRotation, QuotaScan, SshKey, User,
  UserCreate, UserPatch,
} from '../domain/model.js';

/** A list answer: `{data, nextCursor}`. */
type Page<T> = { data: T[]; nextCursor: string | null };

const SSH_PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDtGX+UUY6g7WO56G4c7+hBxv51CgNTZG1TYx1ucOfFJ ci@acme';

export const userExample: User = {
  id: '42',
  backend: 'onprem',
  provider: 'sftpgo',
  username: 'acme_uploads',
  displayName: null,
  status: 'active',
  accessLevel: 'read-write',
  permissions: ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs'],
  directoryPermissions: { '/incoming': ['list', 'upload'] },
  homeDirectory: '/srv/sftpgo/data/acme_uploads',
  chrootDirectory: '/srv/sftpgo/data/acme_uploads',
  expiresAt: '2027-06-30T00:00:00.000Z',
  sshKeyCount: 1,
  host: 'sftp.example.com',
  uri: 'sftp://acme_uploads@sftp.example.com:2022',
  isRoot: false,
  limits: { maxSessions: 5, quotaBytes: 10_737_418_240, quotaFiles: null, uploadKBps: null, downloadKBps: null },
  usage: { bytes: 52_428_800, files: 37, updatedAt: '2026-11-30T08:15:02.114Z' },
  createdAt: '2026-03-24T19:44:19.930Z',
  updatedAt: '2026-11-02T10:03:51.208Z',
  lastLoginAt: '2026-12-01T07:59:12.406Z',
  passwordChangedAt: null,
};

export const userPageExample: Page<User> = {
  data: [userExample],
  nextCursor: 'eyJ2IjoxLCJvIjo1MCwicSI6Ijc0ZjJjOWExIn0',
};

/** A create without `password`: the generated one is in this answer, once. */
export const createdUserExample: User & { password?: string } = {
  ...userExample,
  id: '43',
  username: 'acme_reports',
  accessLevel: 'read-only',
  permissions: ['list', 'download'],
  directoryPermissions: {},
  homeDirectory: '/srv/sftpgo/data/acme_reports',
  chrootDirectory: '/srv/sftpgo/data/acme_reports',
  expiresAt: null,
  uri: 'sftp://acme_reports@sftp.example.com:2022',
  limits: { maxSessions: null, quotaBytes: null, quotaFiles: null, uploadKBps: null, downloadKBps: null },
  usage: { bytes: 0, files: 0, updatedAt: null },
  createdAt: '2026-12-06T09:30:00.125Z',
  updatedAt: '2026-12-06T09:30:00.125Z',
  lastLoginAt: null,
  password: 'k7Qm2xVb9TzR4pLw8NcY3hJd6FsG5aEu',
};

export const userCreateExample: z.input<typeof UserCreate> = {
  username: 'acme_uploads',
  accessLevel: 'read-write',
  directoryPermissions: { '/incoming': ['list', 'upload'] },
  sshKeys: [SSH_PUBLIC_KEY],
  expiresAt: '2027-06-30T00:00:00Z',
  limits: { maxSessions: 5, quotaBytes: 10_737_418_240 },
};

export const userPatchExample: z.input<typeof UserPatch> = {
  status: 'disabled',
  limits: { quotaBytes: 21_474_836_480 },
};

/** The user after `userPatchExample`. */
export const updatedUserExample: User = {
  ...userExample,
  status: 'disabled',
  limits: { maxSessions: 5, quotaBytes: 21_474_836_480, quotaFiles: null, uploadKBps: null, downloadKBps: null },
  updatedAt: '2026-12-06T09:35:12.880Z',
};

export const passwordInputExample = { password: 'correct-horse-battery-staple' };

export const passwordRotationExample: PasswordRotation = {
  password: 'Vb9TzR4pLw8NcY3hJd6FsG5aEuk7Qm2x',
  rotatedAt: '2026-12-06T09:41:27.512Z',
};

export const sshKeyInputExample = { publicKey: SSH_PUBLIC_KEY };

export const sshKeyExample: SshKey = {
  id: 'vefF8x7CaOjFP7UEpO1QQo6C84D9zEIKf3MGbdxXNRo',
  type: 'ed25519',
  fingerprint: 'SHA256:vefF8x7CaOjFP7UEpO1QQo6C84D9zEIKf3MGbdxXNRo',
  comment: 'ci@acme',
  publicKey: SSH_PUBLIC_KEY,
  createdAt: null,
};

export const sshKeyListExample: Page<SshKey> = { data: [sshKeyExample], nextCursor: null };

const networkRules: NetworkRule[] = [
  { id: 'a3f1c2d4', cidr: '203.0.113.0/24', protocol: 'any', enabled: true, description: 'Head office' },
  { id: 'b7e9d0c1', cidr: '198.51.100.7/32', protocol: 'sftp', enabled: true, description: 'Backup server' },
];

export const networkRuleListExample: Page<NetworkRule> = { data: networkRules, nextCursor: null };

/** A bare IP becomes a /32; `protocol`, `enabled` and `description` have defaults. */
export const networkRuleSetExample: { data: z.input<typeof NetworkRuleInput>[] } = {
  data: [
    { cidr: '203.0.113.0/24', description: 'Head office' },
    { cidr: '198.51.100.7', protocol: 'sftp' },
  ],
};

export const networkRulesInForceExample: { data: NetworkRule[] } = { data: networkRules };

export const connectionListExample: { data: Connection[] } = {
  data: [{
    id: 'SFTP_a8f0e1c2d3b4_1',
    username: 'acme_uploads',
    protocol: 'SFTP',
    clientVersion: 'SSH-2.0-OpenSSH_9.6',
    remoteAddress: '203.0.113.7:51234',
    connectedAt: '2026-12-06T09:12:44.018Z',
    lastActivityAt: '2026-12-06T09:14:02.771Z',
    transfers: [{
      operation: 'upload',
      path: '/incoming/2026-12-06.csv',
      startedAt: '2026-12-06T09:13:58.102Z',
      bytes: 1_048_576,
      lastActivityAt: '2026-12-06T09:14:02.771Z',
    }],
  }],
};

export const quotaScanListExample: { data: QuotaScan[] } = {
  data: [{ username: 'acme_uploads', startedAt: '2026-12-06T09:20:31.440Z' }],
};

const sftpgoCapabilities: Capabilities = {
  displayName: false, networkRules: true, independentChroot: false, rename: false, passwordSet: true, expiration: true,
  limits: true, usage: true, customPermissions: true, connections: true, quotaScans: true, passwordRotation: true,
  sshKeys: true, directoryPermissions: true,
};

const sftptogoCapabilities: Capabilities = {
  displayName: true, networkRules: true, independentChroot: true, rename: true, passwordSet: false, expiration: false,
  limits: false, usage: false, customPermissions: false, connections: false, quotaScans: false, passwordRotation: true,
  sshKeys: true, directoryPermissions: false,
};

const onprem: Backend = {
  name: 'onprem',
  provider: 'sftpgo',
  default: true,
  apiVersion: 'v1',
  serverVersion: '1.2.2',
  capabilities: sftpgoCapabilities,
  permissions: [
    'list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs', 'create_symlinks', 'chmod', 'chown', 'chtimes',
  ],
};

export const backendListExample: { data: Backend[] } = {
  data: [
    onprem,
    {
      name: 'togo',
      provider: 'sftptogo',
      default: false,
      apiVersion: null,
      serverVersion: null,
      capabilities: sftptogoCapabilities,
      permissions: ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs', 'create_symlinks'],
    },
  ],
};

/** `GET /v1/backends/{backend}`: the backend with its live check and its circuit breaker. */
export const backendExample: Backend = {
  ...onprem,
  health: { ok: true, latencyMs: 14, detail: 'SFTPGo 1.2.2, API v1 (1.x shape); data provider: Alive; users readable' },
  circuit: { state: 'closed', failures: 0, openUntil: null },
};
