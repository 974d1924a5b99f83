/**
 * The Medusa ids a stored run is indexed by (`resource_ids`), by the prefix
 * Medusa's own data models give them (`model.id({ prefix })` in
 * @medusajs/order, cart, customer, payment, fulfillment, product). The one
 * list: the insert, the back-fill of older rows and the README's table all
 * read it. An id is recognised by its prefix and the underscore after it, so
 * `pay_` also takes payment collections (`pay_col_…`), which are listed for
 * the table's sake; adding a prefix here indexes new runs at once, and rows
 * stored before only through a new back-fill.
 */
export const RESOURCE_ID_PREFIXES: readonly {
  prefix: string
  what: string
}[] = [
  { prefix: "order_", what: "order" },
  { prefix: "ordch_", what: "order change (edit, return, claim, exchange)" },
  { prefix: "return_", what: "return" },
  { prefix: "claim_", what: "claim" },
  { prefix: "oexc_", what: "exchange" },
  { prefix: "cart_", what: "cart" },
  { prefix: "cus_", what: "customer" },
  { prefix: "pay_col_", what: "payment collection" },
  { prefix: "payses_", what: "payment session" },
  { prefix: "pay_", what: "payment" },
  { prefix: "ful_", what: "fulfillment" },
  { prefix: "prod_", what: "product" },
  { prefix: "variant_", what: "product variant" },
]
