/**
 * A self-contained API reference page rendered on the server from the OpenAPI document:
 * no script, no CDN, so it works offline and behind any proxy. `/docs/plain` everywhere, and
 * `/docs` itself on Workers (src/http/docs-routes.ts); Node's `/docs` is swagger-ui.
 */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const esc = (s: unknown) =>
  String(s ?? '').replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

/** A short type label for a schema: `User`, `string[]`, `"a" | "b"`. */
function typeOf(schema: Json | undefined): string {
  if (!schema) return '';
  if (schema.$ref) {
    const name = String(schema.$ref).split('/').pop()!;
    return `<a href="#schema-${esc(name)}">${esc(name)}</a>`;
  }
  if (schema.enum) return schema.enum.map((v: unknown) => esc(JSON.stringify(v))).join(' | ');
  if (schema.anyOf || schema.oneOf) return (schema.anyOf ?? schema.oneOf).map(typeOf).join(' | ');
  if (schema.type === 'array') return `${typeOf(schema.items)}[]`;
  const t = Array.isArray(schema.type) ? schema.type.join(' | ') : schema.type ?? 'object';
  return esc(schema.format ? `${t} (${schema.format})` : t);
}

function propertiesTable(schema: Json): string {
  const props = Object.entries((schema.properties ?? {}) as Json);
  if (!props.length) return `<p><code>${typeOf(schema)}</code></p>`;
  const required = new Set<string>(schema.required ?? []);
  const rows = props
    .map(([name, p]) => `<tr><td><code>${esc(name)}</code>${required.has(name) ? ' <em>required</em>' : ''}</td>` +
      `<td>${typeOf(p)}</td><td>${esc(p.description)}</td></tr>`)
    .join('');
  return `<table><tr><th>field</th><th>type</th><th>description</th></tr>${rows}</table>`;
}

function operation(doc: Json, path: string, method: string, op: Json): string {
  const params = (op.parameters ?? []) as Json[];
  const paramRows = params
    .map((p) => `<tr><td><code>${esc(p.name)}</code> (${esc(p.in)})${p.required ? ' <em>required</em>' : ''}</td>` +
      `<td>${typeOf(p.schema)}</td><td>${esc(p.description ?? p.schema?.description)}</td></tr>`)
    .join('');
  const body = op.requestBody?.content?.['application/json']?.schema;
  const responses = Object.entries((op.responses ?? {}) as Json)
    .map(([status, ref]) => {
      const r = ref.$ref ? doc.components?.responses?.[String(ref.$ref).split('/').pop()!] ?? {} : ref;
      const schema = r.content && (Object.values(r.content)[0] as Json).schema;
      return `<li><code>${esc(status)}</code> ${esc(r.description)}${schema ? ` — ${typeOf(schema)}` : ''}</li>`;
    })
    .join('');
  return `<section class="op" id="op-${esc(op.operationId)}">
<h3><span class="m ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></h3>
<p>${esc(op.summary)}</p>${op.description ? `<p>${esc(op.description)}</p>` : ''}
${paramRows ? `<h4>Parameters</h4><table><tr><th>name</th><th>type</th><th>description</th></tr>${paramRows}</table>` : ''}
${body ? `<h4>Body</h4><p>${typeOf(body)}</p>` : ''}
<h4>Responses</h4><ul>${responses}</ul></section>`;
}

export function renderDocs(doc: Json): string {
  const byTag = new Map<string, string[]>();
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Json)) {
    for (const [method, op] of Object.entries(item as Json)) {
      const tag = (op as Json).tags?.[0] ?? 'Other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), operation(doc, path, method, op as Json)]);
    }
  }
  const toc = [...byTag.keys()].map((t) => `<li><a href="#tag-${esc(t)}">${esc(t)}</a></li>`).join('');
  const sections = [...byTag.entries()]
    .map(([t, ops]) => `<h2 id="tag-${esc(t)}">${esc(t)}</h2>${ops.join('')}`)
    .join('');
  const schemas = Object.entries((doc.components?.schemas ?? {}) as Json)
    .map(([name, s]) => `<section id="schema-${esc(name)}"><h3>${esc(name)}</h3>${propertiesTable(s as Json)}</section>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.info?.title)} — API reference</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
code{font:13px ui-monospace,monospace;background:#f3f3f3;padding:0 .25em;border-radius:3px}
table{border-collapse:collapse;width:100%;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
.op{border-top:1px solid #ddd;padding-top:.5rem}.m{font:bold 12px monospace;padding:.15em .5em;border-radius:3px;color:#fff;background:#555}
.get{background:#1f6feb}.post{background:#2da44e}.put{background:#9a6700}.patch{background:#8250df}.delete{background:#cf222e}
</style></head><body>
<h1>${esc(doc.info?.title)} <small>${esc(doc.info?.version)}</small></h1>
<p>${esc(doc.info?.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p>
<nav><ul>${toc}<li><a href="#schemas">Schemas</a></li></ul></nav>
${sections}<h2 id="schemas">Schemas</h2>${schemas}</body></html>`;
}
