import { RESOURCE_ID_PREFIXES } from "./resource-id-prefixes"

/** At most this many ids are kept per run, the first found: a bulk input (ids of a thousand products) is not an index of a thousand entries. */
export const MAX_RESOURCE_IDS = 32

/**
 * Longer strings are not ids (Medusa's are about 30 characters): a GIN entry
 * has a size limit that would fail the run's insert.
 */
const MAX_RESOURCE_ID_LENGTH = 200

const PREFIXES = RESOURCE_ID_PREFIXES.map(({ prefix }) => prefix)

/**
 * The commerce ids a run is about, read from its input (the workflow's
 * payload, `context.data.payload` of a stored row): at its top level and one
 * object down, the values of keys `id` and `…_id` that are strings, and the
 * string elements of `…_ids` arrays, that carry a listed prefix
 * (RESOURCE_ID_PREFIXES). Deeper objects, objects inside arrays and other
 * keys are not read: an input's own ids are at its top, and a deep walk of a
 * large input would cost every stored run. In the order found, each once, at
 * most MAX_RESOURCE_IDS.
 */
export function resourceIdsOf(payload: unknown): string[] {
  const found = new Set<string>()
  if (!isPlainObject(payload)) {
    return []
  }
  collect(payload, found)
  for (const value of Object.values(payload)) {
    if (isPlainObject(value)) {
      collect(value, found)
    }
  }
  return [...found].slice(0, MAX_RESOURCE_IDS)
}

function collect(object: Record<string, unknown>, found: Set<string>): void {
  for (const [key, value] of Object.entries(object)) {
    if (key === "id" || key.endsWith("_id")) {
      add(value, found)
    } else if (key.endsWith("_ids") && Array.isArray(value)) {
      value.forEach((element) => add(element, found))
    }
  }
}

function add(value: unknown, found: Set<string>): void {
  if (
    typeof value === "string" &&
    found.size < MAX_RESOURCE_IDS &&
    value.length <= MAX_RESOURCE_ID_LENGTH &&
    // Postgres text cannot hold NUL.
    !value.includes("\u0000") &&
    PREFIXES.some(
      (prefix) => value.length > prefix.length && value.startsWith(prefix)
    )
  ) {
    found.add(value)
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
}
