/**
 * Lone UTF-16 surrogates: valid in JSON (`"\ud800"`) and in JS strings, but not text. They make
 * `encodeURIComponent` throw and Go silently turns them into U+FFFD, so the gateway refuses them
 * in request bodies and never lets one crash a mapping.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const isWellFormed = (text: string): boolean => !LONE_SURROGATE.test(text);

/** The text with every lone surrogate replaced by U+FFFD, as `String.prototype.toWellFormed` does. */
export const wellFormed = (text: string): string =>
  isWellFormed(text) ? text : text.replace(new RegExp(LONE_SURROGATE.source, 'g'), '\uFFFD');

/**
 * The path (`a.b.2`) of the first string, key or value, in a JSON value that is not well-formed.
 * Iterative, with paths built only for the answer: a body nested 100,000 deep must cost neither
 * the stack nor quadratic time.
 */
export function firstMalformedString(value: unknown): string | undefined {
  interface Node { value: unknown; key: string | number | null; parent: Node | null }
  const pathOf = (node: Node | null, last?: string): string => {
    const parts: (string | number)[] = last === undefined ? [] : [last];
    for (let n = node; n && n.key !== null; n = n.parent) parts.unshift(n.key);
    return parts.join('.') || '(body)';
  };
  const pending: Node[] = [{ value, key: null, parent: null }];
  while (pending.length) {
    const node = pending.pop()!;
    const v = node.value;
    if (typeof v === 'string') {
      if (!isWellFormed(v)) return pathOf(node);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) pending.push({ value: v[i], key: i, parent: node });
    } else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (!isWellFormed(k)) return pathOf(node, wellFormed(k));
        pending.push({ value: child, key: k, parent: node });
      }
    }
  }
  return undefined;
}
