import { FindConfig } from "@medusajs/framework/types"
import { describe, invalidField } from "../invalid-field"
import { wholeNumber } from "../whole-number"
import { FilterSchema, isRecord } from "./filter-check"

/** The largest page a caller may ask for at once. */
export const MAX_TAKE = 1000

/**
 * The keys of FindConfig that Medusa's generated methods read, and those
 * Medusa's Query passes along with them (`args`, `cursor`, `sort`).
 */
const CONFIG_KEYS = [
  "select",
  "skip",
  "take",
  "relations",
  "order",
  "withDeleted",
  "filters",
  "options",
  "__internal",
  "args",
  "cursor",
  "sort",
]

/** Validates paging, order, select and the other keys of a list call's config against the model's columns; returns a copy to query with. */
export function checkListConfig<T>(
  schema: FilterSchema,
  config: FindConfig<T> = {}
): FindConfig<T> {
  const { configSubject: subject, columns } = schema
  if (!isRecord(config)) {
    throw invalidField(
      subject,
      "config",
      `must be an object, got ${describe(config)}`
    )
  }
  const { take, skip, order, select, relations, withDeleted, ...rest } =
    config as Record<string, any>
  for (const key of Object.keys(rest)) {
    if (!CONFIG_KEYS.includes(key)) {
      throw invalidField(
        subject,
        key,
        `is not a list option (use ${CONFIG_KEYS.join(", ")})`
      )
    }
  }
  if (take !== null) {
    wholeNumber(subject, "take", take, { min: 0, max: MAX_TAKE })
  }
  if (skip !== null) {
    wholeNumber(subject, "skip", skip, { min: 0 })
  }
  if (withDeleted !== undefined && typeof withDeleted !== "boolean") {
    throw invalidField(
      subject,
      "withDeleted",
      `must be true or false, got ${describe(withDeleted)}`
    )
  }
  if (order !== undefined) {
    if (!isRecord(order)) {
      throw invalidField(
        subject,
        "order",
        "must be an object of column: ASC | DESC"
      )
    }
    for (const [column, direction] of Object.entries(order)) {
      if (!columns.has(column)) {
        throw invalidField(subject, `order.${column}`, "is not a column")
      }
      if (typeof direction !== "string" || !/^(asc|desc)$/i.test(direction)) {
        throw invalidField(
          subject,
          `order.${column}`,
          `must be ASC or DESC, got ${describe(direction)}`
        )
      }
    }
  }
  if (select !== undefined) {
    if (!Array.isArray(select)) {
      throw invalidField(subject, "select", "must be an array of field names")
    }
    for (const field of select) {
      if (typeof field !== "string" || !columns.has(field.split(".")[0])) {
        throw invalidField(
          subject,
          "select",
          `${describe(field)} is not a field`
        )
      }
    }
  }
  if (relations !== undefined) {
    // The models have no relations; Query asks with an empty list.
    if (!Array.isArray(relations) || relations.length) {
      throw invalidField(
        subject,
        "relations",
        `must be empty (there are no relations), got ${describe(relations)}`
      )
    }
  }
  // A copy: Medusa's generated list methods write their default order into the config they are given.
  return { ...config }
}
