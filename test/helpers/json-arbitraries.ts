/**
 * fast-check generators for "JSON an upstream could send": a schema's fields valid most of the
 * time, broken now and then, and some dropped. Used to hold the adapters' fast list checks to
 * their zod schemas.
 */
import fc from 'fast-check';

/** Numbers at the edges of int32, safe integers and JSON's doubles. */
export const numberLike = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, -1, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 53 - 1, 2 ** 53, 2 ** 60, 1.5, -0),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Values of the wrong type for most fields. */
export const wrongValue = fc.oneof(
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }),
  numberLike,
);

/** A field's value: `valid` 40 times in 41, else something of another type. */
export const field = (valid: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 40, arbitrary: valid }, { weight: 1, arbitrary: wrongValue });

/** Whole records three times in four, else with up to two of `droppable` removed. */
export function someDropped(record: fc.Arbitrary<Record<string, unknown>>, droppable: string[]) {
  return fc
    .tuple(record, fc.oneof({ weight: 3, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: fc.subarray(droppable, { maxLength: 2 }) }))
    .map(([r, drop]) => Object.fromEntries(Object.entries(r).filter(([k]) => !drop.includes(k))));
}

/**
 * Asserts `fast(v) === zodAccepts(v)` for generated values, and that the generator reached
 * accepted values at least `minAccepted` times (a check that only ever sees rejects proves little).
 */
export function assertSameVerdict(
  values: fc.Arbitrary<unknown>,
  fast: (v: unknown) => boolean,
  zodAccepts: (v: unknown) => boolean,
  opts: { numRuns: number; minAccepted: number },
): void {
  let accepted = 0;
  fc.assert(
    fc.property(values, (v) => {
      const expected = zodAccepts(v);
      if (expected) accepted++;
      if (fast(v) !== expected) throw new Error(`fast check says ${!expected}, zod says ${expected}`);
    }),
    { numRuns: opts.numRuns },
  );
  if (accepted < opts.minAccepted) throw new Error(`only ${accepted} generated values were valid`);
}
