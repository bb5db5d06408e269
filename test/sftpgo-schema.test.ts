/**
 * The SFTPGo list's fast check must accept exactly what the zod schema accepts: generated users,
 * valid and broken field by field, and any JSON value besides.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INT32_MAX, UpstreamUser, UpstreamUserList, isUpstreamUser, parseUpstreamUserList } from '../adapters/sftpgo/schema.js';
import { PERMISSIONS } from '../src/domain/model.js';
import { errorOf } from './helpers/errors.js';
import { assertSameVerdict, field, numberLike, someDropped } from './helpers/json-arbitraries.js';

const permissionList = fc.array(fc.oneof({ weight: 9, arbitrary: fc.constantFrom('*', ...PERMISSIONS) }, { weight: 1, arbitrary: fc.string() }), { maxLength: 4 });
/** 1.x: directory → list, "/" mostly there, now and then a value that is no list. */
const permissionMap = fc.oneof(
  { weight: 8, arbitrary: fc.record({ '/': permissionList }).chain((root) => fc.dictionary(fc.constantFrom('/in', '/out', 'rel'), permissionList, { maxKeys: 2 }).map((rest) => ({ ...root, ...rest }))) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(permissionList, fc.jsonValue()), { maxKeys: 3 }) },
);
const filters = fc.oneof(
  { weight: 6, arbitrary: fc.record({ allowed_ip: fc.oneof(fc.constant(null), fc.array(fc.string(), { maxLength: 2 })), denied_ip: fc.array(fc.string()) }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.record({ allowed_ip: fc.array(fc.oneof(fc.string(), fc.integer()), { minLength: 1, maxLength: 2 }) }) },
  { weight: 1, arbitrary: fc.jsonValue() },
);
const int = field(fc.oneof({ weight: 9, arbitrary: fc.integer() }, { weight: 1, arbitrary: numberLike }));
const users = someDropped(
  fc.record({
    id: field(fc.integer({ min: -2, max: INT32_MAX + 2 })),
    status: field(fc.constantFrom(0, 1, 2)),
    username: field(fc.string({ maxLength: 3 })),
    password: field(fc.oneof(fc.string(), fc.constant(null))),
    public_keys: field(fc.oneof(fc.constant(null), fc.array(fc.oneof({ weight: 5, arbitrary: fc.string() }, { weight: 1, arbitrary: fc.integer() }), { maxLength: 3 }))),
    home_dir: field(fc.string()),
    permissions: field(fc.oneof(permissionList, permissionMap)),
    expiration_date: int, uid: int, gid: int, max_sessions: int, quota_size: int, quota_files: int, used_quota_size: int,
    used_quota_files: int, used_quota_file: int, last_quota_update: int, upload_bandwidth: int, download_bandwidth: int,
    last_login: int,
    filters: field(filters),
  }),
  ['id', 'status', 'username', 'home_dir', 'permissions', 'password', 'uid', 'public_keys', 'filters'],
);
const zodAccepts = (v: unknown) => UpstreamUser.safeParse(v).success;

describe('isUpstreamUser', () => {
  it('agrees with UpstreamUser on generated users, valid and broken', () => {
    assertSameVerdict(users, isUpstreamUser, zodAccepts, { numRuns: 5000, minAccepted: 100 });
  });

  it('agrees with UpstreamUser on any JSON value', () => {
    assertSameVerdict(fc.jsonValue(), isUpstreamUser, zodAccepts, { numRuns: 2000, minAccepted: 0 });
  });

  it('a valid list is returned as parsed, every field kept; a broken one is the 502 zod words', () => {
    const list = [
      { id: 1, status: 1, username: 'alice', home_dir: '/srv/alice', permissions: ['*'], filters: { x: 1 }, used_quota_files: 3 },
      { id: 2, status: 0, username: 'bob', home_dir: '/srv/bob', permissions: ['list', 'download'] },
      { id: 3, status: 1, username: 'carol', home_dir: '/srv/carol', permissions: { '/': ['*'], '/in': [] }, filters: { allowed_ip: ['10.0.0.0/8'] } },
    ];
    expect(parseUpstreamUserList(list, 200)).toBe(list);
    expect(UpstreamUserList.parse(list)).toEqual(list);
    const broken = [list[0], { ...list[1], permissions: ['fly'] }];
    const caught = errorOf(() => parseUpstreamUserList(broken, 200));
    expect(caught.status).toBe(502);
    expect(caught.message).toBe(
      'SFTPGo answered 200 with a body that is not a list of users (1.permissions: not a list of permission names (0.9.x) ' +
        'nor a map of directory to such a list with "/" (1.x))',
    );
  });
});
