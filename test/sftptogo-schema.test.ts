/**
 * The SFTP To Go list's fast check must accept exactly what the zod schema accepts: generated
 * credentials (with their inbound rules), valid and broken field by field, and any JSON value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  UpstreamCredential, UpstreamCredentialList, isUpstreamCredential, parseUpstreamCredentialList,
} from '../adapters/sftptogo/schema.js';
import { errorOf } from './helpers/errors.js';
import { assertSameVerdict, field, numberLike, someDropped } from './helpers/json-arbitraries.js';

const optionalString = field(fc.oneof(fc.string({ maxLength: 3 }), fc.constant(null)));
const time = field(fc.oneof(numberLike, fc.constant(null)));
const rule = someDropped(
  fc.record({
    Id: field(fc.string({ maxLength: 2 })),
    Protocol: field(fc.constantFrom('*', 'SFTP', 'ftps')),
    State: field(fc.constantFrom('enabled', 'disabled')),
    Source: field(fc.string()),
    Action: field(fc.constant('allow')),
    Description: optionalString,
  }),
  ['Id', 'Protocol', 'State', 'Source', 'Action', 'Description'],
);
const settings = field(
  fc.oneof(
    fc.constant(null),
    fc.record({ Network: field(fc.oneof(fc.constant(null), fc.record({ InboundRules: field(fc.oneof(fc.constant(null), fc.array(rule, { maxLength: 2 }))) }, { requiredKeys: [] }))) }, { requiredKeys: [] }),
  ),
);
const credentials = someDropped(
  fc.record({
    Id: field(fc.string({ maxLength: 2 })),
    UserName: field(fc.string({ maxLength: 2 })),
    Alias: optionalString,
    HomeDirectory: field(fc.string()),
    ChrootDirectory: optionalString,
    Permission: field(fc.constantFrom('read-only', 'full', 'admin')),
    State: field(fc.constantFrom('active', 'inactive')),
    Password: optionalString,
    PasswordCreatedAt: field(fc.oneof(fc.string(), numberLike, fc.constant(null))),
    CreatedAt: time,
    UpdatedAt: time,
    IsDefault: field(fc.oneof(fc.boolean(), fc.constant(null))),
    Host: optionalString,
    URI: optionalString,
    OrganizationId: optionalString,
    SshPublicKeysCount: field(fc.oneof(fc.integer({ min: -1, max: 3 }), numberLike, fc.constant(null))),
    Settings: settings,
    MfaEnabled: fc.jsonValue(),
  }),
  ['Id', 'UserName', 'HomeDirectory', 'Permission', 'State', 'Settings', 'Alias', 'IsDefault'],
);
const zodAccepts = (v: unknown) => UpstreamCredential.safeParse(v).success;

describe('isUpstreamCredential', () => {
  it('agrees with UpstreamCredential on generated credentials, valid and broken', () => {
    assertSameVerdict(credentials, isUpstreamCredential, zodAccepts, { numRuns: 5000, minAccepted: 100 });
  });

  it('agrees with UpstreamCredential on any JSON value', () => {
    assertSameVerdict(fc.jsonValue(), isUpstreamCredential, zodAccepts, { numRuns: 2000, minAccepted: 0 });
  });

  it('a valid list is returned as parsed, every field kept; a broken one is the 502 zod words', () => {
    const list = [
      { Id: 'a1', UserName: 'alice', HomeDirectory: '/', Permission: 'full', State: 'active', MfaEnabled: false, Settings: { Network: { InboundRules: [] } } },
      { Id: 'b2', UserName: 'bob', HomeDirectory: '/bob', Permission: 'read-only', State: 'inactive', CreatedAt: 1616615059930 },
    ];
    expect(parseUpstreamCredentialList(list, 200)).toBe(list);
    expect(UpstreamCredentialList.parse(list)).toEqual(list);
    const caught = errorOf(() => parseUpstreamCredentialList([list[0], { ...list[1], UserName: '' }], 200));
    expect(caught.status).toBe(502);
    expect(caught.message).toMatch(/^SFTP To Go answered 200 with a body that is not a list of credentials \(1\.UserName: /);
  });
});
