/**
 * What SFTPGo 2.x's REST API v2 sends for a user (`GET /api/v2/users/{username}`) and a list of
 * users (`GET /api/v2/users`: a bare array), as zod schemas. It extends the 1.x user: the shape
 * is the same map of directory to list, plus the 2.x fields the model reads. Strict only about
 * what the gateway maps; every other field (`filesystem`, `virtual_folders`, `groups`, `email`,
 * `role`, `filters.hooks`, data-transfer limits, fields a later release adds) is kept as sent,
 * because a 2.x PUT resets whatever the body leaves out.
 */
import { z } from 'zod';
import { parseAnswer } from '../../src/provider-kit/index.js';
import { UpstreamPermissionMap, UpstreamUser } from './schema.js';

const optionalInt = z.number().int().optional();

export const UpstreamUserV2 = UpstreamUser.extend({
  // 2.x has only the map (an array is a 400 there: users-create-array-permissions-400.txt).
  permissions: UpstreamPermissionMap,
  /** The model's `displayName`; Go omits it when empty. */
  description: z.string().optional(),
  /** Omitted (false) once the password is removed: users-get-after-empty-password.txt. */
  has_password: z.boolean().optional(),
  created_at: optionalInt,
  updated_at: optionalInt,
  last_password_change: optionalInt,
});
export type UpstreamUserV2 = z.infer<typeof UpstreamUserV2>;

/** A user as the gateway writes it: the server's row id is absent on create. */
export type UpstreamUserV2Body = Omit<UpstreamUserV2, 'id'> & { id?: number };

export const UpstreamUserListV2 = z.array(UpstreamUserV2);

/** A 2xx body that should be a user, or 502 naming the first problem (never the value). */
export function parseUpstreamUserV2(body: unknown, status = 200): UpstreamUserV2 {
  return parseAnswer('SFTPGo', UpstreamUserV2, body, 'a user', status);
}

/** A 2xx body that should be a list of users, or 502 as `parseUpstreamUserV2` words it. */
export function parseUpstreamUserListV2(body: unknown, status = 200): UpstreamUserV2[] {
  return parseAnswer('SFTPGo', UpstreamUserListV2, body, 'a list of users', status);
}
