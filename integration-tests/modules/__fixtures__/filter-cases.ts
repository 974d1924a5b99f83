import fc from "fast-check"
import { TransactionState } from "@medusajs/framework/utils"
import { Kind, KINDS, Row } from "./reference-filter"

/*
 * The rows the filter property test seeds, and the random list calls it
 * makes of them. Each generated value carries the paths of what is wrong in
 * it (`invalid`): empty for a call the engine must answer, otherwise the
 * fields one of which its INVALID_DATA error must name.
 */

const STATES = Object.values(TransactionState) as string[]
const WORKFLOWS = [
  "create-order",
  "Refund-Payment",
  "sync%stock_v2",
  "wf\\back'slash\"",
  "€-billing-😀",
]
const TRANSACTIONS = [
  "tx-alpha",
  "TX-Beta",
  "tx-100%_off",
  "tx_under_score",
  "tx\\back\\slash",
  "tx'single",
  'tx"double',
  "tx 😀 smile",
  "tx-€-euro",
  "tx\ttab\nline",
  "%",
  "_",
  "\\",
  "order-123",
  "ORDER-123",
  "x".repeat(1000),
]
const HOUR = 3600 * 1000
const RESOURCES = [
  "order_01",
  "order_02",
  "cart_01",
  "pay_col_01",
  "cus_01",
  "cus_02",
]

/** 40 rows: every state, several runs of one transaction, soft-deleted ones, expiries, retentions, dates decades apart. */
export const ROWS: Row[] = Array.from({ length: 40 }, (_, i) => {
  const created =
    i === 0
      ? Date.UTC(1970, 0, 1)
      : i === 1
        ? Date.UTC(1999, 11, 31, 23, 59, 59, 999)
        : Date.UTC(2026, 0, 1) + i * 37 * HOUR + i
  const state = STATES[i % STATES.length]
  return {
    id: `wf_exec_${String(i).padStart(3, "0")}`,
    workflow_id: WORKFLOWS[i % WORKFLOWS.length],
    transaction_id: TRANSACTIONS[i % TRANSACTIONS.length],
    // Rows 16 apart share a transaction id (under other workflows); no two share all three keys.
    run_id: `run-${Math.floor(i / TRANSACTIONS.length)}`,
    state,
    created_at: new Date(created),
    updated_at: new Date(created + ((i * 7919) % 97) * 60000 + i * 1000),
    deleted_at: i % 9 === 4 ? new Date(created + 2 * HOUR) : null,
    expires_at:
      ["done", "failed", "reverted"].includes(state) && i % 2
        ? new Date(created + 30 * 24 * HOUR)
        : null,
    retention_time: i % 3 === 0 ? null : i * 3600,
    // Some rows about one order, some about two objects, some about none, some not back-filled yet.
    resource_ids:
      i % 7 === 6
        ? null
        : i % 5 === 0
          ? []
          : [RESOURCES[i % 4], ...(i % 3 ? [RESOURCES[4 + (i % 2)]] : [])],
  }
})

export type Gen = { value: unknown; invalid: string[] }

const ok = (value: unknown): Gen => ({ value, invalid: [] })
const bad = (path: string, value: unknown): Gen => ({ value, invalid: [path] })

/**
 * `right`, but now and then one of `wrong`: each place a case can go wrong
 * does so rarely, so that about half the cases are whole and get answered.
 */
const mostly = <T>(
  right: fc.Arbitrary<T>,
  ...wrong: fc.Arbitrary<T>[]
): fc.Arbitrary<T> =>
  fc.oneof(
    { weight: 12 * wrong.length, arbitrary: right },
    ...wrong.map((arbitrary) => ({ weight: 1, arbitrary }))
  )

/** A value no field takes anywhere: NUL, a lone surrogate, numbers, booleans, null. */
const WRONG_EVERYWHERE: unknown[] = [
  "nul\u0000byte",
  "lone\uD800surrogate",
  42,
  1.5,
  true,
  null,
]
/** Wrong as an operand, though a list or an operator map where a field's value is expected. */
const WRONG_OPERANDS: unknown[] = [...WRONG_EVERYWHERE, {}, ["x"]]

const TEN_KB = "%_\\'\"".repeat(2048)
const CHARS = [
  "a",
  "B",
  "x",
  "-",
  "_",
  "%",
  "\\",
  "'",
  '"',
  " ",
  "\t",
  "😀",
  "€",
  "0",
  "1",
]
const TEXT_POOL = [
  ...new Set(
    ROWS.flatMap((row) => [
      row.id,
      row.workflow_id,
      row.transaction_id,
      row.run_id,
      row.state,
    ])
  ),
]

const substringOf = (pool: string[]) =>
  fc
    .tuple(fc.constantFrom(...pool), fc.nat(), fc.nat(), fc.boolean())
    .map(([text, a, b, upper]) => {
      const chars = [...text]
      const start = a % (chars.length + 1)
      const piece = chars.slice(start, start + (b % 12)).join("")
      return upper ? piece.toUpperCase() : piece
    })

const anyText = fc.oneof(
  fc.constantFrom(
    ...TEXT_POOL,
    "",
    TEN_KB,
    "'; DROP TABLE workflow_execution; --"
  ),
  substringOf(TEXT_POOL),
  fc.string({ unit: fc.constantFrom(...CHARS), maxLength: 8 })
)

/**
 * A LIKE pattern: wildcards, escapes, and pieces of the rows' values as
 * literals; each piece is whole (no escape left open), so none ends in a lone `\`.
 */
const likePattern = fc
  .array(
    fc.oneof(
      fc.constantFrom("%", "_", "\\%", "\\_", "\\\\", "\\a"),
      substringOf(TEXT_POOL).map((text) =>
        text.replace(/[\\%_]/g, (c) => `\\${c}`)
      ),
      fc.constantFrom(...CHARS.filter((c) => c !== "\\"))
    ),
    { maxLength: 5 }
  )
  .map((pieces) => pieces.join(""))

const patternOperand = (path: string): fc.Arbitrary<Gen> =>
  mostly(
    fc.oneof(
      { weight: 6, arbitrary: likePattern.map(ok) },
      { weight: 1, arbitrary: fc.constant(ok(TEN_KB)) }
    ),
    // An escape with nothing after it: Postgres refuses the pattern.
    likePattern.map((p) => bad(path, `${p}\\`)),
    fc.constantFrom(...WRONG_OPERANDS).map((v) => bad(path, v))
  )

const seededDates = ROWS.flatMap((row) => [
  row.created_at,
  row.updated_at,
  row.deleted_at,
  row.expires_at,
]).filter((d): d is Date => d !== null)

const validDate = fc.oneof(
  fc.constantFrom(...seededDates),
  fc.constantFrom(...seededDates).map((d) => new Date(d.getTime() + 1)),
  fc.constantFrom(...seededDates).map((d) => d.toISOString()),
  fc.date({
    min: new Date("1960-01-01T00:00:00Z"),
    max: new Date("2031-01-01T00:00:00Z"),
    noInvalidDate: true,
  }),
  fc
    .date({
      min: new Date("1960-01-01T00:00:00Z"),
      max: new Date("2031-01-01T00:00:00Z"),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString().slice(0, 10)),
  // Without an offset: local time, as JavaScript reads it.
  fc.constantFrom(
    "2026-01-03T12:00:00",
    "2026-02-01 00:00",
    "1999-12-31T23:59:59.999"
  ),
  fc.constantFrom(
    new Date("0001-01-01T00:00:00Z"),
    new Date("9999-12-31T23:59:59.999Z")
  )
)

const invalidDate = fc.constantFrom<unknown>(
  "yesterday-ish",
  "",
  "2026-13-45",
  new Date(NaN),
  // Beyond the years 1 to 9999 that Postgres reads in ISO 8601.
  new Date("0000-12-31T23:59:59.999Z"),
  new Date("+010000-01-01T00:00:00Z"),
  new Date(-8.64e15),
  12345
)

const seededRetentions = ROWS.map((row) => row.retention_time).filter(
  (r): r is number => r !== null
)

/** One operand of `kind` (for `$eq`, a list element, a field's direct value), valid or not. */
function operand(
  kind: Kind,
  path: string,
  wrong: unknown[]
): fc.Arbitrary<Gen> {
  // 42 is wrong for text, not for an integer.
  const wrongOnes = fc
    .constantFrom(
      ...wrong.filter((v) => kind !== "integer" || !Number.isInteger(v))
    )
    .map((v) => bad(path, v))
  switch (kind) {
    case "text":
      return mostly(anyText.map(ok), wrongOnes)
    case "enum":
      return mostly(
        fc.constantFrom(...STATES).map(ok),
        fc.constantFrom("exploded", "DONE", "").map((v) => bad(path, v)),
        wrongOnes
      )
    case "date":
      return mostly(
        validDate.map(ok),
        invalidDate.map((v) => bad(path, v)),
        wrongOnes
      )
    case "integer":
      return mostly(
        fc
          .oneof(
            fc.constantFrom(...seededRetentions, 0, 2 ** 31 - 1, -(2 ** 31)),
            fc.integer({ min: -5, max: 200000 })
          )
          .map(ok),
        fc
          .constantFrom(1.5, 2 ** 31, NaN, Infinity, "5")
          .map((v) => bad(path, v)),
        wrongOnes
      )
  }
}

const listOf = (kind: Kind, path: string): fc.Arbitrary<Gen> =>
  fc
    .integer({ min: 0, max: 4 })
    .chain((n) =>
      fc
        .tuple(
          ...Array.from({ length: n }, (_, i) =>
            operand(kind, `${path}[${i}]`, WRONG_OPERANDS)
          )
        )
        .map(combineList)
    )

const combineList = (items: Gen[]): Gen => ({
  value: items.map((item) => item.value),
  invalid: items.flatMap((item) => item.invalid),
})

const COMPARISONS = ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]
const OPERATORS: Record<Kind, string[]> = {
  text: [...COMPARISONS, "$in", "$nin", "$like", "$ilike"],
  enum: [...COMPARISONS, "$in", "$nin", "$like", "$ilike"],
  integer: [...COMPARISONS, "$in", "$nin"],
  date: COMPARISONS,
}
const UNKNOWN_OPERATORS = [
  "$regex",
  "$exists",
  "$not",
  "$contains",
  "$re",
  "eq",
  "$or",
]

function operatorMap(kind: Kind, path: string): fc.Arbitrary<Gen> {
  const refused = [
    ...UNKNOWN_OPERATORS,
    ...OPERATORS.text.filter((op) => !OPERATORS[kind].includes(op)),
  ]
  return fc
    .tuple(
      fc.subarray(OPERATORS[kind], { maxLength: 3 }),
      mostly(
        fc.constant([] as string[]),
        fc.subarray(refused, { minLength: 1, maxLength: 1 })
      )
    )
    .chain(([operators, wrong]) =>
      fc.tuple(
        ...operators.map((op) =>
          operatorOperand(kind, op, `${path}.${op}`).map(
            (gen) => [op, gen] as const
          )
        ),
        ...wrong.map((op) =>
          fc
            .constantFrom<unknown>("x", ["done"], 1)
            .map((v) => [op, bad(`${path}.${op}`, v)] as const)
        )
      )
    )
    .map(combineEntries)
}

function operatorOperand(
  kind: Kind,
  operator: string,
  path: string
): fc.Arbitrary<Gen> {
  if (operator === "$in" || operator === "$nin") {
    return mostly(
      listOf(kind, path),
      fc.constantFrom<unknown>("done", 3, null, {}).map((v) => bad(path, v))
    )
  }
  if (operator === "$like" || operator === "$ilike") {
    return patternOperand(path)
  }
  return operand(kind, path, WRONG_OPERANDS)
}

const combineEntries = (entries: readonly (readonly [string, Gen])[]): Gen => ({
  value: Object.fromEntries(entries.map(([key, gen]) => [key, gen.value])),
  invalid: entries.flatMap(([, gen]) => gen.invalid),
})

/** A field's value: itself, a list (for the kinds that take `$in`), or an operator map. */
function fieldValue(field: string, path: string): fc.Arbitrary<Gen> {
  const kind = KINDS[field]
  const choices = [
    operand(kind, path, WRONG_EVERYWHERE),
    operatorMap(kind, path),
    operatorMap(kind, path),
  ]
  // A list is `$in` written short: dates take no `$in`, so no list either.
  return kind === "date"
    ? mostly(
        fc.oneof(...choices),
        listOf("date", path).map((gen) => bad(path, gen.value))
      )
    : fc.oneof(...choices, listOf(kind, path))
}

const UNKNOWN_FIELDS = [
  "colour",
  "constructor",
  "__proto__",
  "toString",
  "",
  "State",
  "state ",
  "$not",
  "$nor",
  "execution",
  "context",
  "q\u0000",
]

const qText = mostly(
  fc
    .oneof(
      substringOf(TEXT_POOL),
      fc.constantFrom(
        "%",
        "_",
        "\\",
        "'",
        '"',
        "100%_",
        "ing",
        "DONE",
        "😀",
        TEN_KB,
        "",
        null
      )
    )
    .map(ok),
  fc
    .constantFrom<unknown>("nul\u0000", "\uDC00", 42, {}, ["x"], true)
    .map((v) => bad("q", v))
)

const resourceIdText = fc.constantFrom(
  ...RESOURCES,
  "order_none",
  "",
  "ORDER_01",
  "order_0"
)

/** `resource_id` at the top level: one id or a list of them, or something it refuses. */
const resourceId = mostly<Gen>(
  fc.oneof(
    resourceIdText.map(ok),
    fc.array(resourceIdText, { maxLength: 3 }).map(ok)
  ),
  fc
    .constantFrom<unknown>(42, null, true, { $in: ["order_01"] }, "nul\u0000")
    .map((v) => bad("resource_id", v)),
  fc
    .tuple(resourceIdText, fc.constantFrom<unknown>(7, null, ["order_01"]))
    .map(([id, wrong]) => bad("resource_id[1]", [id, wrong]))
)

/** A filter object at `prefix` (`""` at the top, `$and[0].` inside), nested in `$and`/`$or` up to `depth` 2. */
export function filterObject(prefix = "", depth = 0): fc.Arbitrary<Gen> {
  const fields = fc
    .subarray(Object.keys(KINDS), { maxLength: 3 })
    .chain((names) =>
      fc.tuple(
        ...names.map((name) =>
          fieldValue(name, prefix + name).map((gen) => [name, gen] as const)
        )
      )
    )
  const logical =
    depth < 2
      ? fc
          .subarray(["$and", "$or"], { maxLength: 1 })
          .chain((ops) =>
            fc.tuple(
              ...ops.map((op) =>
                logicalValue(prefix + op, depth).map(
                  (gen) => [op, gen] as const
                )
              )
            )
          )
      : fc.constant([])
  const unknown = mostly<(readonly [string, Gen])[]>(
    fc.constant([]),
    fc
      .constantFrom(...UNKNOWN_FIELDS)
      .map((name) => [[name, bad(prefix + name, "x")] as const])
  )
  const q =
    prefix === ""
      ? fc.oneof(
          { weight: 1, arbitrary: fc.constant([]) },
          { weight: 1, arbitrary: qText.map((gen) => [["q", gen] as const]) }
        )
      : mostly<(readonly [string, Gen])[]>(
          fc.constant([]),
          fc.constant([["q", bad(`${prefix}q`, "tx")] as const])
        )
  // Only at the top, as q; nested it is a field no filter knows.
  const resource =
    prefix === ""
      ? fc.oneof(
          { weight: 1, arbitrary: fc.constant([]) },
          {
            weight: 1,
            arbitrary: resourceId.map((gen) => [["resource_id", gen] as const]),
          }
        )
      : mostly<(readonly [string, Gen])[]>(
          fc.constant([]),
          fc.constant([
            ["resource_id", bad(`${prefix}resource_id`, "order_01")] as const,
          ])
        )
  return fc
    .tuple(fields, logical, unknown, q, resource)
    .map(([a, b, c, d, e]) => combineEntries([...a, ...b, ...c, ...d, ...e]))
}

function logicalValue(path: string, depth: number): fc.Arbitrary<Gen> {
  return mostly(
    fc
      .integer({ min: 0, max: 3 })
      .chain((n) =>
        fc
          .tuple(
            ...Array.from({ length: n }, (_, i) =>
              filterObject(`${path}[${i}].`, depth + 1)
            )
          )
          .map(combineList)
      ),
    fc
      .constantFrom<unknown>({ state: "done" }, "done")
      .map((v) => bad(path, v)),
    fc
      .constantFrom<unknown>("done", null, ["x"])
      .map((v) => bad(`${path}[0]`, [v]))
  )
}

/** The filters of a list call: mostly an object, sometimes something else. */
export const filters: fc.Arbitrary<Gen> = mostly(
  fc.oneof(
    { weight: 12, arbitrary: filterObject() },
    { weight: 1, arbitrary: fc.constant(ok(undefined)) }
  ),
  fc
    .constantFrom<unknown>("state=done", 5, [], null)
    .map((v) => bad("filters", v))
)

/** Orders that give every row a place of its own (created_at and updated_at are distinct, ids too). */
const ORDERS = [
  { created_at: "DESC" },
  { created_at: "asc" },
  { updated_at: "ASC" },
  { id: "DESC" },
  { id: "ASC" },
]

type Entries = (readonly [string, Gen])[]
const none = fc.constant<Entries>([])

const option = (
  key: string,
  valid: fc.Arbitrary<unknown>,
  invalid: unknown[]
) =>
  mostly<Entries>(
    fc.oneof(
      none,
      valid.map((v) => [[key, ok(v)] as const])
    ),
    fc.constantFrom(...invalid).map((v) => [[key, bad(key, v)] as const])
  )

/** Paging, order, withDeleted: valid, wrong, or a key no list takes. */
export const config: fc.Arbitrary<Gen> = fc
  .tuple(
    option(
      "take",
      fc.oneof(fc.integer({ min: 0, max: 45 }), fc.constant(null)),
      [-1, 1.5, 1001, "10"]
    ),
    option(
      "skip",
      fc.oneof(fc.integer({ min: 0, max: 45 }), fc.constant(null)),
      [-1, 2.5, "3"]
    ),
    mostly<Entries>(
      fc.oneof(
        none,
        fc
          .constantFrom(...ORDERS)
          .map((order) => [["order", ok(order)] as const])
      ),
      fc
        .constantFrom(
          ["order.colour", { colour: "ASC" }],
          ["order.id", { id: "sideways" }],
          ["order", "created_at"]
        )
        .map(([path, order]) => [
          ["order", bad(path as string, order)] as const,
        ])
    ),
    option("withDeleted", fc.boolean(), ["yes", 1]),
    mostly<Entries>(
      none,
      fc.constant([["bogus", bad("bogus", 1)] as const]),
      fc.constant([["relations", bad("relations", ["steps"])] as const])
    )
  )
  .map((parts) => combineEntries(parts.flat()))
