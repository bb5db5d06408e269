/**
 * `sftp-gateway users list|get|create|rotate-password`: the users API of a running gateway, as a
 * table for people or as JSON for scripts. A one-time password is printed once, and said to be so.
 */
import type { PasswordRotation, User } from '../domain/model.js';
import { CliError } from './cli-error.js';
import { callGateway, type GatewayTarget } from './gateway-client.js';
import { cell, formatFields, formatTable } from './table.js';

export interface OutputOptions {
  json?: boolean;
}

export interface ListOptions extends OutputOptions {
  limit?: number;
  status?: string;
  username?: string;
  order?: string;
  max?: number;
}

export interface CreateOptions extends OutputOptions {
  accessLevel?: string;
  password?: string;
  displayName?: string;
  homeDirectory?: string;
}

type Out = (text: string) => void;
type CreatedUser = User & { password?: string };

const ONCE = 'This password is shown once and will not be shown again: store it now.';

/** Every page, following `nextCursor`, until the end or `max` users. */
export async function listUsers(target: GatewayTarget, opts: ListOptions, out: Out): Promise<void> {
  const users: User[] = [];
  const seen = new Set<string>();
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams();
    if (opts.limit !== undefined) query.set('limit', String(opts.limit));
    if (opts.status) query.set('status', opts.status);
    if (opts.username) query.set('username', opts.username);
    if (opts.order) query.set('order', opts.order);
    if (cursor) query.set('cursor', cursor);
    const qs = query.toString();
    const page = (await callGateway(target, 'GET', `/users${qs ? `?${qs}` : ''}`)) as { data?: User[]; nextCursor?: string | null };
    if (!Array.isArray(page?.data)) throw new CliError('error: the gateway answered a list without "data"');
    users.push(...page.data);
    cursor = page.nextCursor ?? null;
    // A cursor answered twice would page for ever.
    if (cursor && seen.has(cursor)) throw new CliError('error: the gateway answered the same nextCursor twice');
    if (cursor) seen.add(cursor);
  } while (cursor && (opts.max === undefined || users.length < opts.max));
  const shown = opts.max === undefined ? users : users.slice(0, opts.max);

  if (opts.json) return out(`${JSON.stringify(shown, null, 2)}\n`);
  if (shown.length === 0) return out('no users\n');
  out(formatTable(
    ['ID', 'USERNAME', 'STATUS', 'ACCESS LEVEL', 'SSH KEYS', 'HOME DIRECTORY'],
    shown.map((u) => [u.id, u.username, u.status, u.accessLevel, u.sshKeyCount, u.homeDirectory]),
  ));
  const more = cursor ? ' (more on the gateway: raise --max)' : '';
  out(`${shown.length} user${shown.length === 1 ? '' : 's'}${more}\n`);
}

export async function getUser(target: GatewayTarget, id: string, opts: OutputOptions, out: Out): Promise<void> {
  const user = (await callGateway(target, 'GET', `/users/${encodeURIComponent(id)}`)) as User;
  out(opts.json ? `${JSON.stringify(user, null, 2)}\n` : formatFields(userFields(user)));
}

export async function createUser(target: GatewayTarget, username: string, opts: CreateOptions, out: Out): Promise<void> {
  const body = {
    username,
    ...(opts.accessLevel ? { accessLevel: opts.accessLevel } : {}),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...(opts.displayName !== undefined ? { displayName: opts.displayName } : {}),
    ...(opts.homeDirectory !== undefined ? { homeDirectory: opts.homeDirectory } : {}),
  };
  const created = (await callGateway(target, 'POST', '/users', body)) as CreatedUser;
  if (opts.json) return out(`${JSON.stringify(created, null, 2)}\n`);
  out(`created user ${cell(created.id)} (${cell(created.username)}) on backend ${cell(created.backend)}\n`);
  out(formatFields(userFields(created)));
  if (created.password !== undefined) out(`\npassword  ${created.password}\n${ONCE}\n`);
}

export async function rotatePassword(target: GatewayTarget, id: string, opts: OutputOptions, out: Out): Promise<void> {
  const rotation = (await callGateway(target, 'POST', `/users/${encodeURIComponent(id)}/password-rotations`)) as PasswordRotation;
  if (opts.json) return out(`${JSON.stringify(rotation, null, 2)}\n`);
  out(`new password of user ${cell(id)}, rotated at ${cell(rotation.rotatedAt)}:\n\npassword  ${rotation.password}\n${ONCE}\n`);
}

/** What `get` shows a person: every field but the provider's raw object. */
function userFields(u: User): Array<[string, unknown]> {
  return [
    ['id', u.id], ['backend', u.backend], ['provider', u.provider], ['username', u.username], ['displayName', u.displayName],
    ['status', u.status], ['accessLevel', u.accessLevel], ['permissions', u.permissions],
    ['directoryPermissions', u.directoryPermissions], ['homeDirectory', u.homeDirectory], ['chrootDirectory', u.chrootDirectory],
    ['expiresAt', u.expiresAt], ['sshKeyCount', u.sshKeyCount], ['host', u.host], ['uri', u.uri], ['isRoot', u.isRoot],
    ['limits', u.limits], ['usage', u.usage], ['createdAt', u.createdAt], ['updatedAt', u.updatedAt],
    ['lastLoginAt', u.lastLoginAt], ['passwordChangedAt', u.passwordChangedAt],
  ];
}
