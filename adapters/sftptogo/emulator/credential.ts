/**
 * The SFTP To Go credential as the emulator stores it, what the API accepts in a body (checked as
 * the seed document describes it), and the JSON it writes back (field order as the seed's examples).
 *
 * Failures are thrown as `SftpToGoApiError`, which the emulator answers as `{"message": "..."}`.
 */
import {
  isJsonObject,
} from '../../../src/provider-kit/index.js';

export interface SftpToGoStoredCredential {
  Id: string;
  UserName: string;
  Alias: string;
  HomeDirectory: string;
  ChrootDirectory: string;
  Permission: string;
  State: string;
  Password: string;
  PasswordCreatedAt: string;
  CreatedAt: number;
  UpdatedAt: number;
  IsDefault: boolean;
  InboundRules: Array<{ Id: string; Action: string; Protocol: string; Source: string; State: string; Description: string }>;
  SshKeys: Array<{ Id: string; SshPublicKeyBody: string; Fingerprint: string; Type: string; Comment: string; CreatedAt: number; UpdatedAt: number }>;
}

export type InboundRule = SftpToGoStoredCredential['InboundRules'][number];
export type StoredSshKey = SftpToGoStoredCredential['SshKeys'][number];

/** What a create or update body asks for; absent keys are left alone. */
export interface CredentialChanges {
  UserName?: string;
  Alias?: string;
  HomeDirectory?: string;
  ChrootDirectory?: string;
  Permission?: string;
  State?: string;
  InboundRules?: InboundRule[];
}

/** How answers are dressed: the instance's host and organization, and the tolerance-test field. */
export interface CredentialView {
  host: string;
  organizationId: string;
  extraField: boolean;
}

/** An HTTP error the emulator answers as `{"message": message}`. */
export class SftpToGoApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'SftpToGoApiError';
  }
}

export const PERMISSIONS = ['none', 'read-only', 'read-write', 'write-only', 'full'] as const;
export const CREDENTIAL_STATES = ['active', 'inactive'] as const;
export const RULE_PROTOCOLS = ['*', 'SFTP', 'FTPS'] as const;
export const RULE_STATES = ['enabled', 'disabled'] as const;
const USERNAME = /^[A-Za-z0-9_.-]{10,100}$/;
const PASSWORD_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const STRING_FIELDS = ['UserName', 'Alias', 'HomeDirectory', 'ChrootDirectory', 'Permission', 'State'] as const;

/**
 * Defaults of a create body's absent keys. The seed documents none; these are the emulator's choices:
 * UserName = the new Id (as the seed's GET example, whose UserName is its Id), Alias "",
 * HomeDirectory "/" and ChrootDirectory "/" (the whole storage, as the seed's example sends),
 * Permission "read-write" (the seed's example), State "active".
 */
export const CREATE_DEFAULTS = {
  Alias: '',
  HomeDirectory: '/',
  ChrootDirectory: '/',
  Permission: 'read-write',
  State: 'active',
} as const;

/** A new credential's single rule, as in every seed example (with a fresh Id). */
export function defaultInboundRule(): InboundRule {
  return {
    Action: 'allow',
    Description: 'Allow all inbound traffic from anywhere',
    Id: crypto.randomUUID(),
    Protocol: 'SFTP',
    Source: '0.0.0.0/0',
    State: 'enabled',
  };
}

/** 30 lowercase hex characters, like `cfc211269c8c0f925c64b1a223d8eb`. */
export function newCredentialId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(15)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** 40 lowercase alphanumerics, like `0hzw7ztvcrf245f6718pf0g0uyzi68nktlaco9rc` (unbiased: bytes ≥ 252 are redrawn). */
export function newPassword(): string {
  let password = '';
  while (password.length < 40) {
    for (const byte of crypto.getRandomValues(new Uint8Array(48))) {
      if (byte < 252 && password.length < 40) password += PASSWORD_ALPHABET[byte % 36];
    }
  }
  return password;
}

/** A fresh credential from a create body's changes (defaults filled in) and its new Id. */
export function newCredential(id: string, changes: CredentialChanges, now: number, isDefault = false): SftpToGoStoredCredential {
  return {
    Id: id,
    UserName: changes.UserName ?? id,
    Alias: changes.Alias ?? CREATE_DEFAULTS.Alias,
    HomeDirectory: changes.HomeDirectory ?? CREATE_DEFAULTS.HomeDirectory,
    ChrootDirectory: changes.ChrootDirectory ?? CREATE_DEFAULTS.ChrootDirectory,
    Permission: changes.Permission ?? CREATE_DEFAULTS.Permission,
    State: changes.State ?? CREATE_DEFAULTS.State,
    Password: newPassword(),
    PasswordCreatedAt: new Date(now).toISOString(),
    CreatedAt: now,
    UpdatedAt: now,
    IsDefault: isDefault,
    InboundRules: [defaultInboundRule()],
    SshKeys: [],
  };
}

/** The organization's root credential: UserName is its Id, full access to everything. */
export function rootCredential(id: string, now: number): SftpToGoStoredCredential {
  return newCredential(id, { Alias: 'Root', Permission: 'full' }, now, true);
}

/**
 * Reads a create (`allowRules` false) or update body. Unknown keys are ignored; `Password` is refused
 * (passwords are generated, and changed by a rotation only). `Settings` is read on update only: the
 * seed lists it among the update parameters, not the create ones.
 */
export function readCredentialChanges(body: unknown, opts: { allowRules: boolean }): CredentialChanges {
  if (!isJsonObject(body)) throw badRequest('The request body must be a JSON object');
  if ('Password' in body) throw badRequest('Password cannot be set; rotate the credentials to get a new one');
  const changes: CredentialChanges = {};
  for (const field of STRING_FIELDS) {
    const value = body[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw badRequest(`${field} must be a string`);
    changes[field] = value;
  }
  if (changes.UserName !== undefined) checkUserName(changes.UserName);
  if (changes.Permission !== undefined) checkOneOf('Permission', changes.Permission, PERMISSIONS);
  if (changes.State !== undefined) checkOneOf('State', changes.State, CREDENTIAL_STATES);
  if (opts.allowRules && body.Settings !== undefined) {
    const rules = readInboundRules(body.Settings);
    if (rules) changes.InboundRules = rules;
  }
  return changes;
}

export function checkUserName(name: string): void {
  if (!USERNAME.test(name)) {
    throw badRequest('UserName must be 10 to 100 alphanumeric, underscore, hyphen or period characters');
  }
}

/**
 * `Settings.Network.InboundRules`, checked rule by rule; undefined when the body has no rule set
 * (then the stored one stays). A rule without Id gets a new one; State defaults to "enabled",
 * Description to "". Action, Protocol and Source are required.
 */
function readInboundRules(settings: unknown): InboundRule[] | undefined {
  if (!isJsonObject(settings)) throw badRequest('Settings must be an object');
  const network = settings.Network;
  if (network === undefined) return undefined;
  if (!isJsonObject(network)) throw badRequest('Settings.Network must be an object');
  const rules = network.InboundRules;
  if (rules === undefined) return undefined;
  if (!Array.isArray(rules)) throw badRequest('Settings.Network.InboundRules must be an array');
  const read = rules.map((rule, i) => readInboundRule(rule, `Settings.Network.InboundRules[${i}]`));
  const ids = new Set(read.map((r) => r.Id));
  if (ids.size !== read.length) throw badRequest('Settings.Network.InboundRules: rule Ids must be unique');
  return read;
}

function readInboundRule(rule: unknown, at: string): InboundRule {
  if (!isJsonObject(rule)) throw badRequest(`${at} must be an object`);
  const text = (key: string, fallback?: string): string => {
    const value = rule[key] ?? fallback;
    if (typeof value !== 'string') throw badRequest(`${at}.${key} must be a string`);
    return value;
  };
  const Action = text('Action');
  if (Action !== 'allow') throw badRequest(`${at}.Action must be set to allow`);
  const Protocol = checkOneOf(`${at}.Protocol`, text('Protocol'), RULE_PROTOCOLS);
  const State = checkOneOf(`${at}.State`, text('State', 'enabled'), RULE_STATES);
  const Source = text('Source');
  if (!isIpOrCidr(Source)) throw badRequest(`${at}.Source must be a single IP address or a CIDR range`);
  const Id = text('Id', crypto.randomUUID()) || crypto.randomUUID();
  return { Action, Description: text('Description', ''), Id, Protocol, Source, State };
}

/** `sftp://USERNAME:PASSWORD@HOST` — the upstream really puts the password in it. */
export function credentialUri(cred: SftpToGoStoredCredential, host: string): string {
  return `sftp://${encodeURIComponent(cred.UserName)}:${encodeURIComponent(cred.Password)}@${host}`;
}

/** The credential as the API writes it (Password included, on every read). */
export function toApiCredential(cred: SftpToGoStoredCredential, view: CredentialView): Record<string, unknown> {
  return {
    Alias: cred.Alias,
    ChrootDirectory: cred.ChrootDirectory,
    CreatedAt: cred.CreatedAt,
    HomeDirectory: cred.HomeDirectory,
    Host: view.host,
    Id: cred.Id,
    UserName: cred.UserName,
    IsDefault: cred.IsDefault,
    OrganizationId: view.organizationId,
    Password: cred.Password,
    PasswordCreatedAt: cred.PasswordCreatedAt,
    Permission: cred.Permission,
    Settings: { Network: { InboundRules: cred.InboundRules.map(toApiRule) } },
    SshPublicKeysCount: cred.SshKeys.length,
    State: cred.State,
    URI: credentialUri(cred, view.host),
    UpdatedAt: cred.UpdatedAt,
    ...(view.extraField ? { MfaEnabled: false } : {}),
  };
}

function toApiRule(rule: InboundRule): Record<string, unknown> {
  const { Action, Description, Id, Protocol, Source, State } = rule;
  return { Action, Description, Id, Protocol, Source, State };
}

/** A public key as the API writes it. */
export function toApiSshKey(key: StoredSshKey, userId: string, view: CredentialView): Record<string, unknown> {
  return {
    Comment: key.Comment,
    CreatedAt: key.CreatedAt,
    Fingerprint: key.Fingerprint,
    Id: key.Id,
    SshPublicKeyBody: key.SshPublicKeyBody,
    Type: key.Type,
    UpdatedAt: key.UpdatedAt,
    UserId: userId,
    ...(view.extraField ? { LastUsedAt: null } : {}),
  };
}

// --- checks -------------------------------------------------------------------------------------

export function badRequest(message: string): SftpToGoApiError {
  return new SftpToGoApiError(400, message);
}

function checkOneOf<T extends string>(field: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw badRequest(`${field} must be one of: ${allowed.join(', ')}`);
  return value as T;
}

/** A single IPv4/IPv6 address, or one with a `/prefix` of a valid length. */
export function isIpOrCidr(text: string): boolean {
  const [address = '', prefix, extra] = text.split('/');
  if (extra !== undefined) return false;
  const maxPrefix = isIPv4(address) ? 32 : isIPv6(address) ? 128 : -1;
  if (maxPrefix < 0) return false;
  return prefix === undefined || (/^(0|[1-9]\d{0,2})$/.test(prefix) && Number(prefix) <= maxPrefix);
}

function isIPv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

function isIPv6(text: string): boolean {
  if (!text.includes(':')) return false;
  let head = text;
  if (text.includes('.')) {
    // An embedded IPv4 tail (`::ffff:192.0.2.1`) counts as two groups.
    const cut = text.lastIndexOf(':');
    if (!isIPv4(text.slice(cut + 1))) return false;
    head = `${text.slice(0, cut + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((half) => (half === '' ? [] : half.split(':')));
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? groups.length < 8 : groups.length === 8;
}
