// The typed client (client/, generated from openapi.yaml): create a user, page through users,
// rotate a password, handle a problem+json error. Against the demo: `npx tsx examples/client.ts`.
import { client } from '../client/client.gen.js';
import { createUserOnDefaultBackend, listUsersOnDefaultBackend, rotatePasswordOnDefaultBackend, type Problem } from '../client/index.js';

client.setConfig({
  baseUrl: process.env.SFTP_GATEWAY_URL ?? 'http://127.0.0.1:8080',
  auth: () => process.env.SFTP_GATEWAY_API_KEY, // the API key, sent as a Bearer token (none in demo mode)
});

const describe = (p: Problem) => `${p.status} ${p.code}: ${p.detail}${p.errors?.map((e) => ` [${e.path}: ${e.message}]`).join('') ?? ''}`;

// Create: without a password one is generated and returned once, in this answer.
const username = `acme_${Date.now().toString(36)}`;
const created = await createUserOnDefaultBackend({ body: { username, accessLevel: 'read-only' } });
if (created.error) throw new Error(describe(created.error));
console.log(`created ${created.data.username} (id ${created.data.id}), a generated password of ${created.data.password?.length} characters`);

// Errors are problem+json, typed: the same username again is a 409 conflict.
const again = await createUserOnDefaultBackend({ body: { username, accessLevel: 'read-only' } });
if (again.error) console.log(`refused: ${describe(again.error)}`);

// Page through every user, two at a time, following nextCursor.
let cursor: string | undefined;
const usernames: string[] = [];
do {
  const page = await listUsersOnDefaultBackend({ query: { limit: 2, ...(cursor ? { cursor } : {}) } });
  if (page.error) throw new Error(describe(page.error));
  usernames.push(...page.data.data.map((u) => `${u.username} (${u.status})`));
  cursor = page.data.nextCursor ?? undefined;
} while (cursor);
console.log(`users: ${usernames.join(', ')}`);

// Rotate the password: the new one is shown once.
const rotated = await rotatePasswordOnDefaultBackend({ path: { id: created.data.id } });
if (rotated.error) throw new Error(describe(rotated.error));
console.log(`rotated at ${rotated.data.rotatedAt}: a new password of ${rotated.data.password.length} characters`);
