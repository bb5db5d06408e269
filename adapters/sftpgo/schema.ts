/**
 * What SFTPGo's API v1 sends, as zod schemas, in both of its shapes: 0.9.x (the seed,
 * `seeds/sftpgo-openapi-1.2.0.yaml`: `permissions` one list) and 1.x (`reference/`: `permissions`
 * a map of directory to list, plus `filters` and `filesystem`). Strict about the fields the
 * gateway relies on, lenient about everything else (unknown fields are kept, so `raw` and the
 * read-merge-write PUT carry them unchanged).
 */
import { z } from 'zod';
import {
  isJsonObject, parseAnswer, parseAnswerList, PERMISSIONS,
} from '../../src/provider-kit/index.js';

/** SFTPGo ids are positive int32 (the seed's `format: int32, minimum: 1`). */
export const INT32_MAX = 2_147_483_647;

const int = z.number().int();
/** Counters and epoch-ms times: the server always sends them, but a missing one reads as 0. */
const optionalInt = int.optional();

/** `*` grants everything the server has; the others are the contract's own names. */
export const UpstreamPermission = z.enum(['*', ...PERMISSIONS]);
export type UpstreamPermission = z.infer<typeof UpstreamPermission>;

/** 1.x: absolute directory → its permissions; `/` is always there. */
export const UpstreamPermissionMap = z
  .record(z.string(), z.array(UpstreamPermission))
  .refine((m) => Object.hasOwn(m, '/'), { message: 'has no entry for "/"' });
export type UpstreamPermissionMap = z.infer<typeof UpstreamPermissionMap>;

/** 1.x `filters`: only `allowed_ip` is the gateway's (network rules); the rest is carried as is. */
export const UpstreamFilters = z.looseObject({ allowed_ip: z.array(z.string()).nullable().optional() });
export type UpstreamFilters = z.infer<typeof UpstreamFilters>;

export const UpstreamUser = z.looseObject({
  id: int.min(1).max(INT32_MAX),
  status: z.union([z.literal(0), z.literal(1)]),
  username: z.string().min(1),
  expiration_date: optionalInt,
  /** Omitted by GET; only ever present in what the gateway sends. */
  password: z.string().nullable().optional(),
  public_keys: z.array(z.string()).nullable().optional(),
  home_dir: z.string(),
  uid: optionalInt,
  gid: optionalInt,
  max_sessions: optionalInt,
  quota_size: optionalInt,
  quota_files: optionalInt,
  /** 0.9.x: one list; 1.x: a map of directory to list. */
  permissions: z.union([z.array(UpstreamPermission), UpstreamPermissionMap], {
    error: 'not a list of permission names (0.9.x) nor a map of directory to such a list with "/" (1.x)',
  }),
  used_quota_size: optionalInt,
  /** What the server really sends… */
  used_quota_files: optionalInt,
  /** …and what the seed document (0.9.x) says. Both are accepted. */
  used_quota_file: optionalInt,
  last_quota_update: optionalInt,
  upload_bandwidth: optionalInt,
  download_bandwidth: optionalInt,
  last_login: optionalInt,
  /** 1.x only. */
  filters: UpstreamFilters.optional(),
});
export type UpstreamUser = z.infer<typeof UpstreamUser>;

/** A user as the gateway writes it: the id is absent on create. */
export type UpstreamUserBody = Omit<UpstreamUser, 'id'> & { id?: number };

export const UpstreamTransfer = z.looseObject({
  operation_type: z.enum(['upload', 'download']),
  path: z.string(),
  start_time: optionalInt,
  size: optionalInt,
  last_activity: optionalInt,
});

export const UpstreamConnection = z.looseObject({
  username: z.string(),
  connection_id: z.string().min(1),
  client_version: z.string().nullable().optional(),
  remote_address: z.string().nullable().optional(),
  connection_time: optionalInt,
  last_activity: optionalInt,
  protocol: z.string(),
  active_transfers: z.array(UpstreamTransfer).nullable().optional(),
});
export type UpstreamConnection = z.infer<typeof UpstreamConnection>;

export const UpstreamQuotaScan = z.looseObject({
  username: z.string(),
  start_time: optionalInt,
});
export type UpstreamQuotaScan = z.infer<typeof UpstreamQuotaScan>;

export const ApiResponse = z.looseObject({
  status: optionalInt,
  message: z.string().nullable().optional(),
  error: z.string().nullable().optional(),
});
export type ApiResponse = z.infer<typeof ApiResponse>;

export const VersionInfo = z.looseObject({
  version: z.string(),
  build_date: z.string().optional(),
  commit_hash: z.string().optional(),
});
export type VersionInfo = z.infer<typeof VersionInfo>;

/** The seed says `/version` answers an array; the server answers one object. Both are read. */
export const VersionAnswer = z.union([VersionInfo, z.array(VersionInfo).min(1)]);

export const UpstreamUserList = z.array(UpstreamUser);
export const UpstreamConnectionList = z.array(UpstreamConnection);
export const UpstreamQuotaScanList = z.array(UpstreamQuotaScan);

/** How this provider is named in its errors. */
const PROVIDER = 'SFTPGo';

/**
 * Parses a 2xx body, or throws 502 `upstream_error` naming what was expected and the first
 * problem (its path and zod's message: never the offending value, which could be a secret).
 *
 * @example parseUpstream(UpstreamUser, res.body, 'a user') // "SFTPGo answered 200 with a body that is not a user (home_dir: …)"
 */
export function parseUpstream<T extends z.ZodType>(schema: T, body: unknown, what: string, status = 200): z.infer<T> {
  return parseAnswer(PROVIDER, schema, body, what, status);
}

// ---------------------------------------------------------------------------------------------
// The list's fast path (see parseAnswerList). The check below accepts exactly what `UpstreamUser`
// accepts on any JSON value: test/sftpgo-schema.test.ts holds the two together with generated inputs.

const OPTIONAL_INT_FIELDS = [
  'expiration_date', 'uid', 'gid', 'max_sessions', 'quota_size', 'quota_files', 'used_quota_size', 'used_quota_files',
  'used_quota_file', 'last_quota_update', 'upload_bandwidth', 'download_bandwidth', 'last_login',
] as const satisfies readonly (keyof UpstreamUser)[];
const UPSTREAM_PERMISSIONS: ReadonlySet<unknown> = new Set(UpstreamPermission.options);

const isOptionalInt = (v: unknown) => v === undefined || Number.isSafeInteger(v);
const isPermissionList = (v: unknown) => Array.isArray(v) && v.every((p) => UPSTREAM_PERMISSIONS.has(p));

/** The same answer as `UpstreamPermissionMap.safeParse(v).success`. */
function isPermissionMap(v: unknown): boolean {
  if (!isJsonObject(v) || !Object.hasOwn(v, '/')) return false;
  for (const dir in v) if (!isPermissionList(v[dir])) return false;
  return true;
}

function isFilters(v: unknown): boolean {
  if (v === undefined) return true;
  if (!isJsonObject(v)) return false;
  const ips = v.allowed_ip;
  return ips === undefined || ips === null || (Array.isArray(ips) && ips.every((ip) => typeof ip === 'string'));
}

/** The same answer as `UpstreamUser.safeParse(v).success` for any JSON value, without a copy. */
export function isUpstreamUser(v: unknown): v is UpstreamUser {
  if (!isJsonObject(v)) return false;
  const { id, status, username, password, public_keys: keys, home_dir: home, permissions } = v;
  return (
    Number.isSafeInteger(id) && (id as number) >= 1 && (id as number) <= INT32_MAX &&
    (status === 0 || status === 1) &&
    typeof username === 'string' && username.length >= 1 &&
    (password === undefined || password === null || typeof password === 'string') &&
    (keys === undefined || keys === null || (Array.isArray(keys) && keys.every((k) => typeof k === 'string'))) &&
    typeof home === 'string' &&
    (isPermissionList(permissions) || isPermissionMap(permissions)) &&
    OPTIONAL_INT_FIELDS.every((f) => isOptionalInt(v[f])) &&
    isFilters(v.filters)
  );
}

/** A parsed `GET /api/v1/user` answer → its users, or 502 as `parseUpstream` words it. */
export function parseUpstreamUserList(body: unknown, status: number): UpstreamUser[] {
  return parseAnswerList(PROVIDER, isUpstreamUser, UpstreamUserList, body, 'a list of users', status);
}
