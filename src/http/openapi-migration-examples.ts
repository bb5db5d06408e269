/**
 * The examples of `POST /v1/migrations`: three SFTPGo 1.x users (`onprem`) moving to SFTP To Go
 * (`togo`), as a real plan and run answer them. Typed by the migration's own types, and checked
 * against the route's schemas by test/openapi-document.test.ts.
 */
import type { MigrationPlan, PlannedBackend, PlannedUser } from '../migration/plan-types.js';
import type { MigrationReport } from '../migration/report-types.js';

/** A run of every user (`usernames` left out would mean the same here), asked for explicitly. */
export const migrationRequestExample = {
  from: 'onprem',
  to: 'togo',
  usernames: ['acme_archive', 'acme_reports', 'acme_uploads'],
  dryRun: false,
} as const;

const from: PlannedBackend = { backend: 'onprem', provider: 'sftpgo', apiVersion: 'v1', serverVersion: '1.2.2' };
const to: PlannedBackend = { backend: 'togo', provider: 'sftptogo', apiVersion: null, serverVersion: null };
const policy = { narrow: false, acceptWidening: false };
const ARCHIVE_ID = 'aa4c4fbe8635e6b1d86f18d006945b';
const expiryDropped = { field: 'expiresAt', why: 'SFTP To Go users do not expire', widens: true } as const;

const plannedUsers: PlannedUser[] = [
  {
    username: 'acme_archive', sourceId: '3', targetUsername: 'acme_archive', action: 'exists', targetId: ARCHIVE_ID,
    comparison: 'same', differences: [], dropped: [], narrowed: [], password: 'generated',
  },
  {
    username: 'acme_reports', sourceId: '2', targetUsername: 'acme_reports', action: 'create', dropped: [expiryDropped],
    narrowed: [], blocked: 'SFTP To Go users do not expire', password: 'generated',
  },
  { username: 'acme_uploads', sourceId: '1', targetUsername: 'acme_uploads', action: 'create', dropped: [], narrowed: [], password: 'generated' },
];

/** The dry run's answer: nothing written yet. */
export const migrationPlanExample: MigrationPlan = {
  from,
  to,
  policy,
  users: plannedUsers,
  unknownUsernames: [],
  summary: {
    users: 3,
    actions: { create: 2, exists: 1, conflict: 0 },
    comparisons: { same: 1, differs: 0 },
    dropped: { expiresAt: 1 },
    password: { carried: 0, generated: 3 },
    narrowed: 0,
    blocked: 1,
    unknownUsernames: 0,
  },
};

/** The run's answer: the one place the generated password is shown. */
export const migrationReportExample: MigrationReport = {
  from,
  to,
  policy,
  users: [
    { username: 'acme_archive', sourceId: '3', targetUsername: 'acme_archive', outcome: 'exists', targetId: ARCHIVE_ID, dropped: [], narrowed: [] },
    {
      username: 'acme_reports', sourceId: '2', targetUsername: 'acme_reports', outcome: 'skipped', why: 'SFTP To Go users do not expire',
      dropped: [expiryDropped], narrowed: [],
    },
    {
      username: 'acme_uploads', sourceId: '1', targetUsername: 'acme_uploads', outcome: 'created', targetId: '74e08112de530d871749e43f935929',
      password: 'generated', attempts: 1, generatedPassword: '1xnrtqrwadc3jaxgz7bhfil5paoz627iqnucb92u', dropped: [], narrowed: [],
    },
  ],
  unknownUsernames: [],
  summary: {
    users: 3,
    outcomes: { created: 1, exists: 1, differs: 0, conflict: 0, skipped: 1, failed: 0, pending: 0 },
    generatedPasswords: 1,
  },
  complete: true,
};
