/**
 * What SFTP To Go sends (`seeds/sftptogo-api.txt`), as zod schemas: strict about the fields the
 * gateway relies on, lenient about everything else. Unknown fields are kept (`raw` carries them),
 * and values the gateway cannot interpret (an unknown `Permission` or `State`) are read by the
 * mapping, not refused here: one odd credential must not make the whole list unreadable.
 */
import { z } from 'zod';
import {
  isJsonObject, parseAnswer, parseAnswerList,
} from '../../src/provider-kit/index.js';

/** Epoch milliseconds; a missing one reads as unknown (null). */
const epochMs = z.number().nullable().optional();

export const UpstreamInboundRule = z.looseObject({
  Id: z.string().min(1),
  /** `*` / `SFTP` / `FTPS`; read case-insensitively by the mapping. */
  Protocol: z.string(),
  /** `enabled` / `disabled`. */
  State: z.string(),
  /** A single IP or a CIDR. */
  Source: z.string(),
  /** Always `allow` today. */
  Action: z.string().optional(),
  Description: z.string().nullable().optional(),
});
export type UpstreamInboundRule = z.infer<typeof UpstreamInboundRule>;

export const UpstreamCredential = z.looseObject({
  Id: z.string().min(1),
  UserName: z.string().min(1),
  Alias: z.string().nullable().optional(),
  HomeDirectory: z.string(),
  ChrootDirectory: z.string().nullable().optional(),
  /** `none` / `read-only` / `write-only` / `read-write` / `full`; anything else reads as custom. */
  Permission: z.string(),
  /** `active` / `inactive`; anything else reads as disabled. */
  State: z.string(),
  /** The live password: on every read. Never leaves the adapter but in a create or rotate answer. */
  Password: z.string().nullable().optional(),
  /** ISO 8601 (the seed); epoch ms is tolerated. */
  PasswordCreatedAt: z.union([z.string(), z.number()]).nullable().optional(),
  CreatedAt: epochMs,
  UpdatedAt: epochMs,
  IsDefault: z.boolean().nullable().optional(),
  Host: z.string().nullable().optional(),
  /** `sftp://USER:PASSWORD@HOST`: never passed on as is. */
  URI: z.string().nullable().optional(),
  OrganizationId: z.string().nullable().optional(),
  SshPublicKeysCount: z.number().int().min(0).nullable().optional(),
  Settings: z
    .looseObject({
      Network: z.looseObject({ InboundRules: z.array(UpstreamInboundRule).nullable().optional() }).nullable().optional(),
    })
    .nullable()
    .optional(),
});
export type UpstreamCredential = z.infer<typeof UpstreamCredential>;

export const UpstreamCredentialList = z.array(UpstreamCredential);

export const UpstreamSshKey = z.looseObject({
  Id: z.string().min(1),
  SshPublicKeyBody: z.string(),
  /** `rsa`, …: used only when the body does not parse. */
  Type: z.string().nullable().optional(),
  /** Used only when the body does not parse: the gateway computes it from the key blob. */
  Fingerprint: z.string().nullable().optional(),
  Comment: z.string().nullable().optional(),
  CreatedAt: epochMs,
  UpdatedAt: epochMs,
  UserId: z.string().nullable().optional(),
});
export type UpstreamSshKey = z.infer<typeof UpstreamSshKey>;

export const UpstreamSshKeyList = z.array(UpstreamSshKey);

/** A credential as the gateway writes it in a create or a PATCH: only the keys that change. */
export interface UpstreamCredentialBody {
  UserName?: string;
  Alias?: string;
  HomeDirectory?: string;
  ChrootDirectory?: string;
  Permission?: string;
  State?: string;
  /** The whole rule set, when it changes. */
  Settings?: { Network: { InboundRules: UpstreamInboundRuleBody[] } };
}

/** An inbound rule as the gateway writes it (`Id` only when the caller sent one). */
export interface UpstreamInboundRuleBody {
  Id?: string;
  Action: 'allow';
  Protocol: '*' | 'SFTP' | 'FTPS';
  State: 'enabled' | 'disabled';
  Source: string;
  Description: string;
}

/** How this provider is named in its errors. */
const PROVIDER = 'SFTP To Go';

/**
 * Parses a 2xx body, or throws 502 `upstream_error` naming what was expected and the first
 * problem (its path and zod's message: never the offending value, which could be a password).
 *
 * @example parseUpstream(UpstreamCredential, res.body, 'a credential', 201)
 *   // throws "SFTP To Go answered 201 with a body that is not a credential (Id: …)"
 */
export function parseUpstream<T extends z.ZodType>(schema: T, body: unknown, what: string, status = 200): z.infer<T> {
  return parseAnswer(PROVIDER, schema, body, what, status);
}

// ---------------------------------------------------------------------------------------------
// The list's fast path (see parseAnswerList): all credentials of the organization come in one
// answer (10,000 users: ~7.5 MB). The check below accepts exactly what `UpstreamCredential`
// accepts on any JSON value: test/sftptogo-schema.test.ts holds the two together with generated inputs.

const isNonEmptyString = (v: unknown) => typeof v === 'string' && v.length >= 1;
const isOptional = (v: unknown, test: (v: unknown) => boolean) => v === undefined || v === null || test(v);
const isString = (v: unknown) => typeof v === 'string';
const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const OPTIONAL_STRING_FIELDS = ['Alias', 'ChrootDirectory', 'Password', 'Host', 'URI', 'OrganizationId'] as const;

function isUpstreamInboundRule(v: unknown): boolean {
  return (
    isJsonObject(v) && isNonEmptyString(v.Id) && isString(v.Protocol) && isString(v.State) && isString(v.Source) &&
    (v.Action === undefined || isString(v.Action)) && isOptional(v.Description, isString)
  );
}

const isSettings = (v: unknown) =>
  isJsonObject(v) &&
  isOptional(v.Network, (n) => isJsonObject(n) && isOptional(n.InboundRules, (r) => Array.isArray(r) && r.every(isUpstreamInboundRule)));

/** The same answer as `UpstreamCredential.safeParse(v).success` for any JSON value, without a copy. */
export function isUpstreamCredential(v: unknown): v is UpstreamCredential {
  return (
    isJsonObject(v) &&
    isNonEmptyString(v.Id) && isNonEmptyString(v.UserName) && isString(v.HomeDirectory) &&
    isString(v.Permission) && isString(v.State) &&
    OPTIONAL_STRING_FIELDS.every((f) => isOptional(v[f], isString)) &&
    isOptional(v.PasswordCreatedAt, (t) => isString(t) || isNumber(t)) &&
    isOptional(v.CreatedAt, isNumber) && isOptional(v.UpdatedAt, isNumber) &&
    isOptional(v.IsDefault, (b) => typeof b === 'boolean') &&
    isOptional(v.SshPublicKeysCount, (n) => Number.isSafeInteger(n) && (n as number) >= 0) &&
    isOptional(v.Settings, isSettings)
  );
}

/** A parsed `GET /organizations/{org}/users` answer → its credentials, or 502 as `parseUpstream` words it. */
export function parseUpstreamCredentialList(body: unknown, status: number): UpstreamCredential[] {
  return parseAnswerList(PROVIDER, isUpstreamCredential, UpstreamCredentialList, body, 'a list of credentials', status);
}
