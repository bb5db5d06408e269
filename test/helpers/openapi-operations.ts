/** The operations of an OpenAPI document as served (`GET /openapi.json`), read the way a reader of it would. */

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

export interface Operation {
  method: string;
  path: string;
  operationId: string;
  summary?: string;
  tags?: string[];
  parameters?: { name: string; in: string; schema?: Record<string, unknown> }[];
}

type Document = { paths?: Record<string, Record<string, unknown>> };

/** Every operation under `paths` (a path item's other fields, e.g. its `parameters`, are not operations). */
export function operationsOf(doc: Document): Operation[] {
  return Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.has(method))
      .map(([method, op]) => ({ ...(op as Omit<Operation, 'method' | 'path'>), method, path })),
  );
}
