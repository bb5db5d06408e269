import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { openApiYaml } from '../scripts/openapi-document.js';

describe('openapi.yaml', () => {
  it('is what the code generates (run `npm run openapi` after changing a schema or route)', () => {
    const committed = readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8');
    expect(committed).toBe(openApiYaml());
  });

  it('documents every route of the contract, both forms, with the shared errors', () => {
    const doc = parse(openApiYaml());
    const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const contract = [
      'GET /users', 'POST /users', 'GET /users/{id}', 'PATCH /users/{id}', 'DELETE /users/{id}',
      'POST /users/{id}/password-rotations', 'PUT /users/{id}/password', 'GET /users/{id}/ssh-keys',
      'POST /users/{id}/ssh-keys', 'DELETE /users/{id}/ssh-keys/{keyId}', 'GET /users/{id}/network-rules',
      'PUT /users/{id}/network-rules', 'GET /connections', 'DELETE /connections/{connectionId}',
      'GET /quota-scans', 'POST /users/{id}/quota-scans',
    ];
    for (const op of contract) {
      const [method, path] = op.split(' ');
      expect(ops).toContain(`${method} /v1${path}`);
      expect(ops).toContain(`${method} /v1/backends/{backend}${path}`);
    }
    expect(ops).toEqual(expect.arrayContaining(['GET /v1/backends', 'GET /v1/backends/{backend}']));
    expect(doc.components.schemas.Problem.properties).toHaveProperty('requestId');
    expect(doc.paths['/v1/users'].post.responses).toHaveProperty('422');
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });
});
