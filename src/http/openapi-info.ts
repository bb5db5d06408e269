/** The document's own part: what it describes, its license, where it is served. */

/** The port `npm start` serves demo mode on without `PORT` (config `server.port`'s default, src/config.ts). */
export const DEMO_PORT = 8080;

export const API_DESCRIPTION = [
  'One provider-neutral REST API for SFTP users, carried to SFTP To Go or SFTPGo. Every backend route exists ' +
    'twice: under /v1/backends/{backend} and, for the default backend, under /v1.',
  '**Authentication.** Send `Authorization: Bearer <API key>`, a key from the gateway config (`auth.apiKeys`). ' +
    'Each key has scopes: `read` (reads of users, keys and rules, and of the backends), `write` (every change to ' +
    'users, keys, rules and passwords) and `admin` (connections, quota scans, migrations, `include=raw`); each operation names ' +
    'the one it needs, and a key may be limited to some backends. Health, readiness and this document need no key. ' +
    'Demo mode (`npm start` without `GATEWAY_CONFIG`) has no authentication at all.',
  'Errors are `application/problem+json` (`components.schemas.Problem`); every answer carries `X-Request-Id`.',
].join('\n\n');

export const LICENSE = { name: 'Apache-2.0', identifier: 'Apache-2.0' };

export const SERVERS = [
  { url: '/', description: 'This gateway (the host that served this document)' },
  { url: `http://127.0.0.1:${DEMO_PORT}`, description: 'The local demo: `npm start` without GATEWAY_CONFIG (no authentication)' },
];

export const TAGS = [
  { name: 'Backends', description: 'The configured backends: provider, capabilities, permission names, a live health check' },
  { name: 'Users', description: 'SFTP users (credentials) and their passwords' },
  { name: 'SSH keys', description: "A user's SSH public keys" },
  { name: 'Network rules', description: "A user's network inbound rules (CIDRs allowed to connect)" },
  { name: 'Connections', description: 'Live SFTP connections (SFTPGo)' },
  { name: 'Quota scans', description: "Scans of a user's stored files (SFTPGo)" },
  { name: 'Migrations', description: 'Moving users from one backend to another: planned first, then run' },
  { name: 'System', description: 'Liveness, readiness and this description: no API key needed' },
];
