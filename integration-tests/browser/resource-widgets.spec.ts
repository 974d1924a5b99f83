import fs from "fs"
import path from "path"
import { Client } from "pg"
import { Browser, Page } from "playwright-core"
import {
  DEMO_TEST_TIMEOUT_MS,
  RunningDemo,
  startDemo,
} from "../demo/running-demo"
import {
  closeAll,
  describeWithChromium,
  launchChromium,
  logIn,
  newAdminPage,
  tabTo,
  UI_DEADLINE_MS,
} from "./admin-pages"
import { waitUntil } from "../modules/__fixtures__/engine"

/**
 * The "Workflow runs" widgets in the demo store's admin, in Chromium: an
 * order created through the admin API (a draft order, Medusa's own
 * workflow) whose runs are seeded as the engine stores them (resource_ids
 * from their input), shown on the order's page newest first with the failed
 * one marked, a run opened by keyboard; another order and a customer with
 * no run show the empty state; Settings → Workflows with ?resource_id= shows
 * the filtered runs with a chip and clears them. Screenshots go to
 * integration-tests/browser/screenshots (git-ignored), or SCREENSHOTS_DIR
 * (`npm run screenshots` writes docs/screenshots).
 */

const SCREENSHOTS = process.env.SCREENSHOTS_DIR
  ? path.resolve(process.env.SCREENSHOTS_DIR)
  : path.join(__dirname, "screenshots")

jest.setTimeout(DEMO_TEST_TIMEOUT_MS)

let demo: RunningDemo | undefined
let browser: Browser | undefined

afterAll(() => closeAll(browser, demo))

async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({
    path: path.join(SCREENSHOTS, `${name}.png`),
    fullPage: true,
  })
}

/** The admin API of the running demo, as an admin logged in with the printed credentials. */
async function adminApi(running: RunningDemo) {
  const base = new URL(running.adminUrl).origin
  const login = await fetch(`${base}/auth/user/emailpass`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: running.email, password: running.password }),
  })
  const { token } = await login.json()
  return async (route: string, body?: unknown) => {
    const response = await fetch(`${base}${route}`, {
      method: body === undefined ? "GET" : "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const data = await response.json()
    if (!response.ok) {
      throw new Error(`${route}: ${response.status} ${JSON.stringify(data)}`)
    }
    return data
  }
}

/** Runs about `input`'s ids, as the engine stores them: the input in context.data.payload, its ids in resource_ids. */
async function seedRuns(
  running: RunningDemo,
  runs: {
    id: string
    workflow_id: string
    state: string
    minutesAgo: number
    resource_ids: string[]
  }[]
): Promise<void> {
  const db = new Client({
    host: "localhost",
    port: running.postgresPort,
    user: "postgres",
    password: "postgres",
    database: "medusa_demo",
  })
  await db.connect()
  try {
    for (const run of runs) {
      await db.query(
        `INSERT INTO workflow_execution
           (id, workflow_id, transaction_id, run_id, state, execution, context, retention_time, resource_ids, created_at, updated_at)
         VALUES ($1, $2, $3, 'run', $4, $5::jsonb, $6::jsonb, 86400, $7::text[],
                 now() - make_interval(mins => $8), now() - make_interval(mins => $8))`,
        [
          run.id,
          run.workflow_id,
          `tx-${run.id}`,
          run.state,
          JSON.stringify({
            state: run.state,
            modelId: run.workflow_id,
            steps: {},
          }),
          JSON.stringify({
            data: { payload: { order_id: run.resource_ids[0] } },
            errors: [],
          }),
          run.resource_ids,
          run.minutesAgo,
        ]
      )
    }
  } finally {
    await db.end()
  }
}

describeWithChromium("resource-widgets.spec.ts")(
  "the Workflow runs widgets in Chromium",
  () => {
    it("lists an order's runs newest first with the failed one marked, opens one by keyboard, shows the empty state, and filters Settings → Workflows by the order", async () => {
      demo = await startDemo()
      browser = await launchChromium()
      const api = await adminApi(demo)

      const { region } = await api("/admin/regions", {
        name: "Widget test region",
        currency_code: "eur",
      })
      const orderFor = async (email: string) =>
        (
          await api("/admin/draft-orders", {
            email,
            region_id: region.id,
          })
        ).draft_order.id as string
      const orderId = await orderFor("runs@example.com")
      const quietOrderId = await orderFor("quiet@example.com")
      const { customer } = await api("/admin/customers", {
        email: "no-runs@example.com",
        first_name: "Quiet",
      })
      expect([orderId, quietOrderId, customer.id]).toEqual([
        expect.stringMatching(/^order_/),
        expect.stringMatching(/^order_/),
        expect.stringMatching(/^cus_/),
      ])
      await seedRuns(demo, [
        {
          id: "wf_exec_widget_capture",
          workflow_id: "capture-payment",
          state: "failed",
          minutesAgo: 5,
          resource_ids: [orderId],
        },
        {
          id: "wf_exec_widget_confirm",
          workflow_id: "send-order-confirmation",
          state: "done",
          minutesAgo: 30,
          resource_ids: [orderId, "cus_somebody"],
        },
        {
          id: "wf_exec_widget_other",
          workflow_id: "book-shipment",
          state: "done",
          minutesAgo: 10,
          resource_ids: ["order_someone_else"],
        },
      ])

      const page = await newAdminPage(browser)
      await logIn(page, demo)
      const origin = new URL(demo.adminUrl).origin
      const appUrl = (route: string) =>
        `${new URL(demo!.adminUrl).pathname.replace(/\/$/, "")}${route}`

      await page.goto(`${origin}${appUrl(`/orders/${orderId}`)}`)
      const widget = page.locator(
        `[aria-labelledby="workflow-runs-heading-${orderId}"]`
      )
      const table = widget.getByRole("table", {
        name: `Workflow runs of order ${orderId}`,
      })
      await table.waitFor({ timeout: UI_DEADLINE_MS })
      const rows = table.getByRole("row")
      // The header and the order's two runs, newest first; the other order's run is not there.
      await waitUntil(async () => (await rows.count()) === 3, UI_DEADLINE_MS, {
        what: "the order's two runs in its widget",
      })
      expect(await rows.nth(1).innerText()).toMatch(/capture-payment\s+Failed/)
      expect(await rows.nth(2).innerText()).toMatch(
        /send-order-confirmation\s+Done/
      )
      expect(await widget.innerText()).not.toContain("book-shipment")
      await widget.scrollIntoViewIfNeeded()
      await screenshot(page, "order-workflow-runs")

      // By keyboard: Tab to the failed run's link, Enter opens its page in Settings → Workflows.
      const link = await tabTo(
        page,
        table.getByRole("link", { name: "capture-payment" })
      )
      await link.press("Enter")
      await page.waitForURL(/\/settings\/workflows\/wf_exec_widget_capture$/, {
        timeout: UI_DEADLINE_MS,
      })

      // An order and a customer nothing ran about: the empty state, no table.
      for (const [route, noun] of [
        [`/orders/${quietOrderId}`, "order"],
        [`/customers/${customer.id}`, "customer"],
      ]) {
        await page.goto(`${origin}${appUrl(route)}`)
        const empty = page.getByText(`No workflow runs for this ${noun}`, {
          exact: true,
        })
        await empty.waitFor({ timeout: UI_DEADLINE_MS })
        if (noun === "customer") {
          await empty.scrollIntoViewIfNeeded()
          await screenshot(page, "customer-workflow-runs-empty")
        }
      }

      // Settings → Workflows filtered by the order: its runs under a chip, and a link that clears it.
      await page.goto(
        `${origin}${appUrl(`/settings/workflows?resource_id=${orderId}`)}`
      )
      const filtered = page.locator('[aria-labelledby="filtered-runs-heading"]')
      await filtered
        .getByRole("table", { name: "Filtered workflow runs" })
        .waitFor({ timeout: UI_DEADLINE_MS })
      expect(await filtered.innerText()).toContain(`resource: ${orderId}`)
      const filteredRows = filtered.getByRole("table").getByRole("row")
      await waitUntil(
        async () => (await filteredRows.count()) === 3,
        UI_DEADLINE_MS,
        { what: "the order's two runs in the filtered list" }
      )
      // Medusa's admin renders a "before" zone's widgets below its list by default.
      await filtered.scrollIntoViewIfNeeded()
      await screenshot(page, "workflows-filtered-by-order")
      await filtered.getByRole("link", { name: "Clear filter" }).click()
      await page.waitForURL(/\/settings\/workflows$/, {
        timeout: UI_DEADLINE_MS,
      })
      await filtered.waitFor({ state: "detached", timeout: UI_DEADLINE_MS })
    })
  }
)
