/**
 * How many changes a file's delta holds before the file is written again whole with them (the status table's
 * settled ids, the side index's records): `fallback`, or OMNI_SHIP_DELTA_LIMIT (a whole number) for the tests of
 * that write.
 */
export function deltaLimit(fallback: number): number {
  const set = process.env.OMNI_SHIP_DELTA_LIMIT;
  return set !== undefined && /^\d+$/.test(set) ? Number(set) : fallback;
}
