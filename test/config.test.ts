import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config.js';
import { parseConfig } from '../src/providers.js';

const base = {
  auth: { apiKeys: [{ name: 'ops', key: '${OPS_KEY}', scopes: ['read', 'write', 'admin'] }] },
  defaultBackend: 'onprem',
  backends: {
    onprem: { provider: 'sftpgo', baseUrl: 'http://127.0.0.1:8081', sftpHost: 'sftp.example.com', sftpPort: 2022 },
    togo: { provider: 'sftptogo', organizationId: '${ORG}', apiKey: '${TOGO_KEY}', timeoutMs: 5000 },
  },
};
const env = { OPS_KEY: 'ops-key-0123456789abcdef', ORG: 'org-1', TOGO_KEY: 'togo-secret' };

/** Parses `mutate(copy of base)` and returns the ConfigError's field and message. */
function configError(mutate: (c: any) => void, vars: Record<string, string> = env): ConfigError { // eslint-disable-line @typescript-eslint/no-explicit-any
  const cfg = structuredClone(base);
  mutate(cfg);
  try {
    parseConfig(JSON.stringify(cfg), vars);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('parses the example, interpolates ${NAME} and applies defaults', () => {
    const cfg = parseConfig(JSON.stringify(base), env);
    expect(cfg.auth?.apiKeys[0]?.key).toBe(env.OPS_KEY);
    expect(cfg.backends.togo).toMatchObject({ organizationId: 'org-1', apiKey: 'togo-secret', baseUrl: 'https://api.sftptogo.com', timeoutMs: 5000 });
    expect(cfg.backends.onprem).toMatchObject({ apiVersion: 'auto', homeDirectoryBase: '/srv/sftpgo/data', timeoutMs: 10_000 });
    expect(cfg.server).toEqual({ host: '127.0.0.1', port: 8080, trustProxy: false });
    expect(cfg.cache).toMatchObject({ driver: 'memory', ttlSeconds: 30 });
    expect(cfg.defaultBackend).toBe('onprem');
  });

  it('lets PORT and HOST override server', () => {
    const cfg = parseConfig(JSON.stringify(base), { ...env, PORT: '9999', HOST: '0.0.0.0' });
    expect(cfg.server).toEqual({ host: '0.0.0.0', port: 9999, trustProxy: false });
    expect(() => parseConfig(JSON.stringify(base), { ...env, PORT: 'eighty' })).toThrow(/PORT/);
  });

  it('takes SFTPGo apiVersion auto (the default) or v1', () => {
    for (const apiVersion of ['auto', 'v1']) {
      const cfg = structuredClone(base) as { backends: { onprem: Record<string, unknown> } };
      cfg.backends.onprem.apiVersion = apiVersion;
      expect(parseConfig(JSON.stringify(cfg), env).backends.onprem).toMatchObject({ apiVersion });
    }
  });

  it('takes the only backend as the default', () => {
    const cfg = parseConfig(JSON.stringify({ ...base, defaultBackend: undefined, backends: { onprem: base.backends.onprem } }), env);
    expect(cfg.defaultBackend).toBe('onprem');
  });

  const cases: Array<[string, (c: any) => void, RegExp, Record<string, string>?]> = [ // eslint-disable-line @typescript-eslint/no-explicit-any
    ['a missing environment variable, by name', () => {}, /auth\.apiKeys\.0\.key: environment variable OPS_KEY is not set/, { ORG: 'o', TOGO_KEY: 'k' }],
    ['an unknown provider', (c) => (c.backends.onprem.provider = 'ftp'), /backends\.onprem\.provider/],
    ['a bad baseUrl', (c) => (c.backends.onprem.baseUrl = 'not a url'), /backends\.onprem\.baseUrl/],
    ['a non-http baseUrl', (c) => (c.backends.onprem.baseUrl = 'ftp://host'), /backends\.onprem\.baseUrl: must be an http/],
    ['an unknown field', (c) => (c.backends.onprem.colour = 'red'), /backends\.onprem/],
    ['a default backend that does not exist', (c) => (c.defaultBackend = 'nope'), /defaultBackend: "nope" is not a configured backend/],
    ['no default among several backends', (c) => delete c.defaultBackend, /defaultBackend: required/],
    ['a short API key', (c) => (c.auth.apiKeys[0].key = 'short'), /auth\.apiKeys\.0\.key: API keys must be at least 16/],
    ['an unknown scope', (c) => (c.auth.apiKeys[0].scopes = ['root']), /auth\.apiKeys\.0\.scopes\.0/],
    ['a key limited to an unknown backend', (c) => (c.auth.apiKeys[0].backends = ['ghost']), /auth\.apiKeys\.0\.backends\.0: "ghost" is not a configured backend/],
    ['duplicate key names', (c) => c.auth.apiKeys.push({ ...c.auth.apiKeys[0], key: 'another-key-0123456789' }), /auth\.apiKeys\.1\.name: duplicate/],
    ['redis without a url', (c) => (c.cache = { driver: 'redis' }), /cache\.url: the redis driver needs exactly one of url, clusterNodes or sentinels/],
    ['redis with both a url and cluster nodes', (c) => (c.cache = { driver: 'redis', url: 'redis://a:6379', clusterNodes: ['redis://b:6379'] }), /cache\.url: the redis driver needs exactly one/],
    ['a redis url of another scheme', (c) => (c.cache = { driver: 'redis', url: 'http://a:6379' }), /cache\.url: must be a redis:\/\/ or rediss:\/\/ URL/],
    ['a bad backend name', (c) => (c.backends['Bad Name!'] = c.backends.onprem), /backends/],
    ['a timeout out of range', (c) => (c.backends.onprem.timeoutMs = 5), /backends\.onprem\.timeoutMs/],
    ['basic auth username without password', (c) => (c.backends.onprem.username = 'admin'), /backends\.onprem\.password: username and password go together/],
    ['no API keys', (c) => (c.auth.apiKeys = []), /auth\.apiKeys/],
    ['an unknown SFTPGo API version', (c) => (c.backends.onprem.apiVersion = 'v3'), /backends\.onprem\.apiVersion: must be "auto", "v1" or "v2"/],
    ['SFTPGo API v2 without credentials', (c) => (c.backends.onprem.apiVersion = 'v2'), /backends\.onprem\.apiKey: REST API v2 \(SFTPGo 2\.x\) needs credentials: apiKey, or username and password/],
    ['an SFTPGo API key on API v1', (c) => Object.assign(c.backends.onprem, { apiVersion: 'v1', apiKey: 'id.secret' }), /backends\.onprem\.apiKey: REST API v1 \(SFTPGo 0\.9\.x and 1\.x\) has no API keys/],
    ['an SFTPGo API key with a password', (c) => Object.assign(c.backends.onprem, { apiKey: 'id.secret', username: 'admin', password: 'pw-123456' }), /backends\.onprem\.apiKey: give either apiKey or username and password, not both/],
  ];
  it.each(cases)('refuses %s, naming the field', (_name, mutate, message, vars) => {
    expect(configError(mutate, vars).message).toMatch(message);
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseConfig('{ nope', env)).toThrow(/not valid JSON/);
  });

  it('says where the text stops being JSON, never what is there (an unquoted key stays out of the message)', () => {
    const text = '{\n  "auth": { "apiKeys": [{ "name": "ops", "key": SUPER-SECRET-KEY-123 }] }\n}';
    let message = '';
    try {
      parseConfig(text, env);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^invalid configuration: \(file\): not valid JSON: a syntax error( at line 2, column \d+)?$/);
    expect(message).not.toMatch(/SUPER|SECRET|KEY-123/);
  });
});

describe('config: audit', () => {
  const withAudit = (audit: unknown, vars: Record<string, string> = env) => parseConfig(JSON.stringify({ ...base, audit }), vars);

  it('is optional (the gateway then writes events to stdout)', () => {
    expect(parseConfig(JSON.stringify(base), env).audit).toBeUndefined();
  });

  it('takes the stdout, file and http sinks, with ${NAME} in the secret', () => {
    expect(withAudit({ sink: 'stdout' }).audit).toEqual({ sink: 'stdout' });
    expect(withAudit({ sink: 'file', path: '/var/log/sftp-gateway/audit.jsonl' }).audit).toEqual({ sink: 'file', path: '/var/log/sftp-gateway/audit.jsonl' });
    expect(withAudit({ sink: 'http', url: 'https://audit.example.com/in', secret: '${AUDIT_SECRET}' }, { ...env, AUDIT_SECRET: 's3cret-hmac-key' }).audit)
      .toEqual({ sink: 'http', url: 'https://audit.example.com/in', secret: 's3cret-hmac-key' });
  });

  const cases: Array<[string, unknown, RegExp, Record<string, string>?]> = [
    ['an unknown sink', { sink: 'syslog' }, /^invalid configuration: audit\.sink: must be "stdout", "file" or "http"$/],
    ['no sink', {}, /^invalid configuration: audit\.sink: must be "stdout", "file" or "http"$/],
    ['not an object', 'stdout', /^invalid configuration: audit: /],
    ['a file sink without a path', { sink: 'file' }, /^invalid configuration: audit\.path: /],
    ['a file sink with an empty path', { sink: 'file', path: '' }, /^invalid configuration: audit\.path: /],
    ['an http sink without a secret', { sink: 'http', url: 'https://audit.example.com/in' }, /^invalid configuration: audit\.secret: /],
    ['an http sink with an empty secret', { sink: 'http', url: 'https://audit.example.com/in', secret: '' }, /^invalid configuration: audit\.secret: /],
    ['an http sink with a non-http url', { sink: 'http', url: 'ftp://audit.example.com', secret: 'x' }, /^invalid configuration: audit\.url: must be an http/],
    ['an http sink without a url', { sink: 'http', secret: 'x' }, /^invalid configuration: audit\.url: /],
    ['a field of another sink', { sink: 'stdout', path: '/tmp/audit' }, /^invalid configuration: audit: .*"path"/],
    ['a missing secret variable, by name', { sink: 'http', url: 'https://a.example.com', secret: '${AUDIT_SECRET}' }, /^invalid configuration: audit\.secret: environment variable AUDIT_SECRET is not set$/],
  ];
  it.each(cases)('refuses %s, naming the field', (_name, audit, message, vars) => {
    expect(() => withAudit(audit, vars)).toThrow(ConfigError);
    expect(() => withAudit(audit, vars)).toThrow(message);
  });
});
