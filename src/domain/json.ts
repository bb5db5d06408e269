/** A parsed JSON object: not null, not an array. The one test for it, for adapters and emulators alike. */
export const isJsonObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
