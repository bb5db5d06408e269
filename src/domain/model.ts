/**
 * The normalized model: every resource the gateway speaks, as zod schemas.
 * Schemas are registered once with `.openapi(Name)` so openapi.yaml names them.
 */
import { z } from '@hono/zod-openapi';

/** What a missing field says, in every validation message (CONTRACT §4), instead of the library's "expected …, received undefined". */
export const REQUIRED = 'is required';
z.config({ customError: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? REQUIRED : undefined) });

/**
 * Every permission name the gateway knows, in the canonical order of CONTRACT §2. A backend
 * grants the first N of them (`Backend.permissions`): SFTP To Go and SFTPGo 0.9.x eight,
 * SFTPGo 1.x eleven, SFTPGo 2.x all sixteen.
 */
export const PERMISSIONS = [
  'list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs', 'create_symlinks',
  'chmod', 'chown', 'chtimes', 'delete_files', 'delete_dirs', 'rename_files', 'rename_dirs', 'copy',
] as const;
export const Permission = z.enum(PERMISSIONS).openapi('Permission');
export type Permission = z.infer<typeof Permission>;

/** The first eight names: what SFTP To Go and SFTPGo 0.9.x can grant. */
export const BASIC_PERMISSIONS: readonly Permission[] = PERMISSIONS.slice(0, 8);

export const ACCESS_LEVELS = ['none', 'read-only', 'write-only', 'read-write', 'full', 'custom'] as const;
export const AccessLevel = z.enum(ACCESS_LEVELS).openapi('AccessLevel');
export type AccessLevel = z.infer<typeof AccessLevel>;

/** The levels a provider stores as one value, narrowest first (`custom` is any other set). */
export const FIXED_LEVELS = ['none', 'read-only', 'write-only', 'read-write', 'full'] as const satisfies readonly AccessLevel[];
export type FixedLevel = (typeof FIXED_LEVELS)[number];

export const PROVIDERS = ['sftptogo', 'sftpgo'] as const;
export const Provider = z.enum(PROVIDERS).openapi('Provider');
export type Provider = z.infer<typeof Provider>;

export const UserStatus = z.enum(['active', 'disabled']).openapi('UserStatus');
export type UserStatus = z.infer<typeof UserStatus>;

const isoTime = z.string().openapi({ format: 'date-time', example: '2021-03-24T19:44:19.930Z' });
const nullableTime = isoTime.nullable();

/** A timestamp the caller sends: any ISO 8601 date-time with a zone. */
const isoInput = z.iso.datetime({ offset: true }).openapi({ example: '2027-01-01T00:00:00.000Z' });

const unlimited = (max: number, description: string) =>
  z.number().int().min(1).max(max).nullable().openapi({ description: `${description}; null = unlimited` });

export const Limits = z
  .object({
    maxSessions: unlimited(2_147_483_647, 'concurrent sessions'),
    quotaBytes: unlimited(Number.MAX_SAFE_INTEGER, 'stored bytes'),
    quotaFiles: unlimited(2_147_483_647, 'stored files'),
    uploadKBps: unlimited(2_147_483_647, 'upload bandwidth in KB/s'),
    downloadKBps: unlimited(2_147_483_647, 'download bandwidth in KB/s'),
  })
  .openapi('Limits');
export type Limits = z.infer<typeof Limits>;

/** In a request, omitted limit fields mean unlimited (create) or unchanged (patch). */
export const LimitsInput = Limits.partial().strict().openapi('LimitsInput');
export type LimitsInput = z.infer<typeof LimitsInput>;

export const Usage = z
  .object({ bytes: z.number().int(), files: z.number().int(), updatedAt: nullableTime })
  .openapi('Usage');
export type Usage = z.infer<typeof Usage>;

/** A sub-directory's absolute path → its permissions ("/" is the root's: `permissions`). */
export const DirectoryPermissions = z
  .record(z.string(), z.array(Permission))
  .openapi('DirectoryPermissions', { example: { '/incoming': ['list', 'upload'] } });
export type DirectoryPermissions = z.infer<typeof DirectoryPermissions>;

export const User = z
  .object({
    id: z.string().openapi({ example: '42' }),
    backend: z.string().openapi({ example: 'onprem' }),
    provider: Provider,
    username: z.string().openapi({ example: 'acme_uploads' }),
    displayName: z.string().nullable(),
    status: UserStatus,
    accessLevel: AccessLevel,
    permissions: z.array(Permission).openapi({ description: "The root directory's permissions, in canonical order" }),
    directoryPermissions: DirectoryPermissions.nullable().openapi({
      description: 'Sub-directory overrides ({} when none); null where the provider has none',
    }),
    homeDirectory: z.string(),
    chrootDirectory: z.string().nullable(),
    expiresAt: nullableTime,
    sshKeyCount: z.number().int(),
    host: z.string().nullable(),
    uri: z.string().nullable().openapi({ example: 'sftp://acme_uploads@sftp.example.com:2022' }),
    isRoot: z.boolean(),
    limits: Limits.nullable(),
    usage: Usage.nullable(),
    createdAt: nullableTime,
    updatedAt: nullableTime,
    lastLoginAt: nullableTime,
    passwordChangedAt: nullableTime,
    raw: z.record(z.string(), z.unknown()).optional().openapi({
      description: "Only with ?include=raw (admin scope): the provider's own object, secrets removed",
    }),
  })
  .openapi('User');
export type User = z.infer<typeof User>;

/**
 * A User as an adapter produces it. `raw` is computed only when a caller asks for it
 * (`?include=raw`): copying every upstream object on every list would be wasted work.
 */
export type AdapterUser = Omit<User, 'raw'> & { raw: () => Record<string, unknown> };

export const CreatedUser = User.extend({
  password: z.string().optional().openapi({ description: 'Only when the gateway generated it: shown once' }),
}).openapi('CreatedUser');

export const USERNAME_MAX = 255;
const username = z.string().min(1).max(USERNAME_MAX);
const directory = z.string().min(1).max(4096).regex(/^\//, 'must be an absolute path starting with /');
const password = z.string().min(1, 'must not be empty: the gateway never removes a password').max(1024);

export const NetworkRuleInput = z
  .object({
    id: z.string().min(1).max(128).optional(),
    cidr: z.string().min(1).max(64).openapi({ example: '203.0.113.0/24' }),
    protocol: z.enum(['any', 'sftp', 'ftps']).default('any'),
    enabled: z.boolean().default(true),
    description: z.string().max(1024).nullable().default(null),
  })
  .strict()
  .openapi('NetworkRuleInput');
export type NetworkRuleInput = z.infer<typeof NetworkRuleInput>;

/** A rule set: at most 100 rules, and an `id` given to two rules is refused. */
export const networkRuleList = () =>
  z
    .array(NetworkRuleInput)
    .max(100)
    .superRefine((rules, ctx) => {
      const seen = new Set<string>();
      rules.forEach((rule, i) => {
        if (rule.id === undefined) return;
        if (seen.has(rule.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `id "${rule.id}" is given to two rules` });
        seen.add(rule.id);
      });
    })
    .openapi({ description: 'The whole set: at most 100 rules; an `id` given to two rules is a 400' });

export const NetworkRule = z
  .object({
    id: z.string(),
    cidr: z.string(),
    protocol: z.enum(['any', 'sftp', 'ftps']),
    enabled: z.boolean(),
    description: z.string().nullable(),
  })
  .openapi('NetworkRule');
export type NetworkRule = z.infer<typeof NetworkRule>;

/** At most this many sub-directories may carry their own permissions in one request. */
export const MAX_DIRECTORY_ENTRIES = 100;

/**
 * The document's rule for a directory key: the key schema below and its refine as one (JSON
 * Schema's `propertyNames`, which the generator does not derive from a record's key schema).
 */
const directoryKeyRule = {
  propertyNames: { type: 'string', minLength: 1, maxLength: 4096, pattern: String.raw`^/([\s\S]*/)?([^/.]|\.[^/])` },
};

/** `directoryPermissions` in a request: absolute sub-directory paths (not "/") → permissions. */
const directoryPermissionsInput = z
  .record(
    directory.refine((d) => d.split('/').some((part) => part !== '' && part !== '.'), {
      message: 'is the root directory: set its permissions with accessLevel or permissions',
    }),
    z.array(Permission).max(PERMISSIONS.length),
  )
  .refine((m) => Object.keys(m).length <= MAX_DIRECTORY_ENTRIES, { message: `at most ${MAX_DIRECTORY_ENTRIES} directories` })
  .openapi('DirectoryPermissionsInput', {
    example: { '/incoming': ['list', 'upload'] },
    maxProperties: MAX_DIRECTORY_ENTRIES,
    ...directoryKeyRule,
  });

const sshKeyList = z.array(z.string().min(1).max(16_384)).max(100);

const userFields = {
  displayName: z.string().max(255).nullable(),
  accessLevel: AccessLevel,
  permissions: z.array(Permission).max(PERMISSIONS.length),
  directoryPermissions: directoryPermissionsInput.nullable(),
  homeDirectory: directory,
  chrootDirectory: directory.nullable(),
  status: UserStatus,
  expiresAt: isoInput.nullable(),
  limits: LimitsInput.nullable(),
};

export const UserCreate = z
  .object({
    username,
    ...userFields,
    password,
    sshKeys: sshKeyList,
    networkRules: networkRuleList(),
  })
  .partial()
  .required({ username: true })
  .strict()
  .openapi('UserCreate', {
    description: '`accessLevel` or `permissions` is required (both only if they agree); `status` defaults to `active`. ' +
      'A field this provider cannot hold is a 422.',
  });
export type UserCreate = z.infer<typeof UserCreate>;

/** `sshKeys`, `networkRules` and `directoryPermissions` replace the whole set; `limits` merges. */
export const UserPatch = z
  .object({ username, ...userFields, password, sshKeys: sshKeyList, networkRules: networkRuleList() })
  .partial()
  .strict()
  .openapi('UserPatch');
export type UserPatch = z.infer<typeof UserPatch>;

export const SSH_KEY_TYPES = ['rsa', 'ed25519', 'ecdsa', 'dsa', 'sk-ed25519', 'sk-ecdsa'] as const;
export const SshKeyType = z.enum(SSH_KEY_TYPES).openapi('SshKeyType');
export type SshKeyType = z.infer<typeof SshKeyType>;

export const SshKey = z
  .object({
    id: z.string(),
    type: SshKeyType,
    fingerprint: z.string().openapi({ example: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8' }),
    comment: z.string().nullable(),
    publicKey: z.string(),
    createdAt: nullableTime,
  })
  .openapi('SshKey');
export type SshKey = z.infer<typeof SshKey>;

export const SshKeyInput = z
  .object({ publicKey: z.string().min(1).max(16_384).openapi({ example: 'ssh-ed25519 AAAAC3Nza... me@host' }) })
  .strict()
  .openapi('SshKeyInput');

export const PasswordInput = z.object({ password }).strict().openapi('PasswordInput');

export const PasswordRotation = z
  .object({ password: z.string(), rotatedAt: isoTime })
  .openapi('PasswordRotation');
export type PasswordRotation = z.infer<typeof PasswordRotation>;

export const Transfer = z
  .object({
    operation: z.enum(['upload', 'download']),
    path: z.string(),
    startedAt: nullableTime,
    bytes: z.number().int(),
    lastActivityAt: nullableTime,
  })
  .openapi('Transfer');

export const Connection = z
  .object({
    id: z.string(),
    username: z.string(),
    protocol: z.string(),
    clientVersion: z.string().nullable(),
    remoteAddress: z.string().nullable(),
    connectedAt: nullableTime,
    lastActivityAt: nullableTime,
    transfers: z.array(Transfer),
  })
  .openapi('Connection');
export type Connection = z.infer<typeof Connection>;

export const QuotaScan = z.object({ username: z.string(), startedAt: nullableTime }).openapi('QuotaScan');
export type QuotaScan = z.infer<typeof QuotaScan>;

export const CAPABILITIES = [
  'displayName', 'networkRules', 'independentChroot', 'rename', 'passwordSet', 'expiration', 'limits',
  'usage', 'customPermissions', 'connections', 'quotaScans', 'passwordRotation', 'sshKeys', 'directoryPermissions',
] as const;
export type Capability = (typeof CAPABILITIES)[number];
export type Capabilities = Record<Capability, boolean>;
export const CapabilitiesSchema = z
  .object(Object.fromEntries(CAPABILITIES.map((c) => [c, z.boolean()])) as Record<Capability, z.ZodBoolean>)
  .openapi('Capabilities');

export const Health = z
  .object({ ok: z.boolean(), latencyMs: z.number().int(), detail: z.string() })
  .openapi('Health');
export type Health = z.infer<typeof Health>;

export const Circuit = z
  .object({
    state: z.enum(['closed', 'open', 'half-open']),
    /** Consecutive failed upstream calls (connection errors, timeouts, 5xx). */
    failures: z.number().int(),
    /** While open: when calls go upstream again (one probe first). */
    openUntil: nullableTime,
  })
  .openapi('Circuit');
export type Circuit = z.infer<typeof Circuit>;

export const Backend = z
  .object({
    name: z.string(),
    provider: Provider,
    default: z.boolean(),
    apiVersion: z.string().nullable().openapi({
      description: "The provider API version the server speaks (SFTPGo `v1` or `v2`); null until first reached, or where the provider has none",
      example: 'v1',
    }),
    serverVersion: z.string().nullable().openapi({
      description: "The server's own version as it reports it (SFTPGo `/version`); null until first reached, or where the provider has none",
      example: '1.2.2',
    }),
    capabilities: CapabilitiesSchema,
    permissions: z.array(Permission).openapi({ description: 'The permission names this backend can grant, in canonical order' }),
    health: Health.optional(),
    circuit: Circuit.optional(),
  })
  .openapi('Backend');
export type Backend = z.infer<typeof Backend>;

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    requestId: z.string(),
    backend: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi('Problem');
export type Problem = z.infer<typeof Problem>;

/** `{data, nextCursor}` — every list answer. */
export const pageOf = <T extends z.ZodTypeAny>(item: T, name: string) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable() }).openapi(name);
