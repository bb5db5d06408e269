/**
 * Checks every `example` of an OpenAPI document against the zod schema it illustrates: the document
 * is walked alongside the routes' own zod schemas (request bodies, answers, parameters), through
 * `$ref`s, objects, arrays, records and nullable wrappers. Reports the examples that fail, and those
 * no walk reached (an example the check cannot vouch for is a failure too).
 */
import type { z } from '@hono/zod-openapi';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The part of @asteasolutions/zod-to-openapi's route definition the walk reads. */
export interface RouteDefinition {
  method: string;
  path: string;
  request?: {
    params?: z.ZodObject;
    query?: z.ZodObject;
    headers?: z.ZodObject;
    body?: { content: Record<string, { schema: unknown }> };
  };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}

/** zod 4's definition of a schema: the fields the walk follows. */
interface Def {
  type: string;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
}

const isZod = (v: unknown): v is z.ZodType => typeof (v as { safeParse?: unknown })?.safeParse === 'function';
const esc = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1');
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;
const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'nonoptional', 'catch']);

/** Every JSON pointer of an `example` in the document (not looking inside the examples themselves). */
export function examplePointers(node: unknown, at = ''): string[] {
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) =>
    k === 'example' ? [`${at}/example`] : examplePointers(v, `${at}/${esc(k)}`));
}

export interface ExampleCheck {
  /** Pointers of the examples checked. */
  checked: Set<string>;
  /** `pointer: what zod said`, for each example its schema refused. */
  failures: string[];
}

export function checkExamples(
  doc: Json, routes: RouteDefinition[], mediaExamples: Record<string, z.ZodType> = {},
): ExampleCheck {
  const checked = new Set<string>();
  const failures: string[] = [];
  const walked = new Map<z.ZodType, Set<string>>();

  const at = (pointer: string): Json =>
    pointer.split('/').slice(1).reduce<Json>((n, seg) => n?.[seg.replaceAll('~1', '/').replaceAll('~0', '~')], doc);

  const validate = (schema: z.ZodType, example: unknown, pointer: string) => {
    checked.add(pointer);
    const result = schema.safeParse(example);
    if (!result.success) failures.push(`${pointer}: ${result.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  };

  const walk = (schema: z.ZodType, node: Json | undefined, pointer: string): void => {
    if (!node || typeof node !== 'object') return;
    if (typeof node.$ref === 'string') {
      pointer = node.$ref.slice(1);
      node = at(pointer);
      if (!node) return;
    }
    const seen = walked.get(schema) ?? new Set<string>();
    if (seen.has(pointer)) return;
    walked.set(schema, seen.add(pointer));
    if ('example' in node) validate(schema, node.example, `${pointer}/example`);
    (node.allOf as Json[] | undefined)?.forEach((branch, i) => walk(schema, branch, `${pointer}/allOf/${i}`));
    const def = defOf(schema);
    for (const key of ['anyOf', 'oneOf'] as const) {
      const branches = node[key] as Json[] | undefined;
      // A union's branches are its options, in order; any other (a nullable) is the schema itself.
      const optionOf = (i: number) => (def.type === 'union' && def.options?.length === branches?.length ? def.options![i]! : schema);
      branches?.forEach((branch, i) => {
        if (branch.type !== 'null') walk(optionOf(i), branch, `${pointer}/${key}/${i}`);
      });
    }
    if (WRAPPERS.has(def.type) && def.innerType) return walk(def.innerType, node, pointer);
    if (def.type === 'pipe' && def.in) return walk(def.in, node, pointer);
    if (def.type === 'object' && def.shape) {
      for (const [name, property] of Object.entries(def.shape)) {
        walk(property, node.properties?.[name], `${pointer}/properties/${esc(name)}`);
      }
    }
    if (def.type === 'array' && def.element) walk(def.element, node.items, `${pointer}/items`);
    if (def.type === 'record' && def.valueType) walk(def.valueType, node.additionalProperties, `${pointer}/additionalProperties`);
  };

  const media = (content: Record<string, { schema: unknown }> | undefined, docContent: Json | undefined, pointer: string) => {
    for (const [type, { schema }] of Object.entries(content ?? {})) {
      const entry = docContent?.[type];
      if (!isZod(schema) || !entry) continue;
      const here = `${pointer}/content/${esc(type)}`;
      if ('example' in entry) validate(schema, entry.example, `${here}/example`);
      walk(schema, entry.schema, `${here}/schema`);
    }
  };

  for (const route of routes) {
    const base = `/paths/${esc(route.path)}/${route.method}`;
    const op = at(base);
    if (!op) continue;
    media(route.request?.body?.content, op.requestBody?.content, `${base}/requestBody`);
    for (const [status, response] of Object.entries(route.responses)) {
      media(response.content, op.responses?.[status]?.content, `${base}/responses/${esc(status)}`);
    }
    const places = [['params', 'path'], ['query', 'query'], ['headers', 'header']] as const;
    for (const [part, where] of places) {
      const shape = (route.request?.[part]?.shape ?? {}) as Record<string, z.ZodType>;
      for (const [name, schema] of Object.entries(shape)) {
        const i = (op.parameters as Json[] | undefined)?.findIndex((p) => p.in === where && p.name.toLowerCase() === name.toLowerCase()) ?? -1;
        if (i < 0) continue;
        const param = op.parameters[i];
        if ('example' in param) validate(schema, param.example, `${base}/parameters/${i}/example`);
        walk(schema, param.schema, `${base}/parameters/${i}/schema`);
      }
    }
  }
  // Examples of shared media types (components.responses), each with the schema it illustrates.
  for (const [pointer, schema] of Object.entries(mediaExamples)) validate(schema, at(pointer), pointer);
  return { checked, failures };
}
