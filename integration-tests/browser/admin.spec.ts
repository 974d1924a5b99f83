import fs from "fs"
import path from "path"
import { Browser, chromium, Page } from "playwright-core"
import { DEMO_TEST_TIMEOUT_MS, RunningDemo, startDemo } from "../demo/running-demo"

/**
 * The demo store in a real browser: Debian's Chromium, driven by
 * playwright-core (never a browser download), logs in with the credentials
 * the demo prints, opens Settings → Workflows, sees the seeded executions and
 * the plugin's storage card, previews and runs a purge of the expired runs,
 * opens the failed execution and sees its step timeline and retention, then
 * opens the shipment whose courier booking waits, retries that step with the
 * keyboard through its confirmation, and sees the run finish.
 * Screenshots go to integration-tests/browser/screenshots (git-ignored), or
 * SCREENSHOTS_DIR.
 */

const CHROMIUM = "/usr/bin/chromium"
const SCREENSHOTS = process.env.SCREENSHOTS_DIR
  ? path.resolve(process.env.SCREENSHOTS_DIR)
  : path.join(__dirname, "screenshots")
const UI_DEADLINE_MS = 60 * 1000
const STOP_DEADLINE_MS = 60 * 1000
// Enough to cross the admin's sidebar and the execution page to the panel.
const MAX_TABS = 200

const hasChromium = fs.existsSync(CHROMIUM)
if (!hasChromium) {
  console.warn(
    `Skipping the browser test: ${CHROMIUM} is absent. Install Debian's chromium (apt-get install -y chromium) to run it; .ci/run does.`
  )
}

jest.setTimeout(DEMO_TEST_TIMEOUT_MS)

let demo: RunningDemo | undefined
let browser: Browser | undefined

async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true })
}

async function logIn(page: Page, running: RunningDemo): Promise<void> {
  await page.goto(running.adminUrl)
  // The admin redirects to its login page once it knows nobody is logged in.
  await page.waitForURL(/\/app\/login/, { timeout: UI_DEADLINE_MS })
  await page.locator('input[name="email"]').fill(running.email)
  await page.locator('input[name="password"]').fill(running.password)
  await page.locator('button[type="submit"]').click()
  await page.waitForURL((url) => !url.pathname.startsWith("/app/login"), { timeout: UI_DEADLINE_MS })
}

/** Settings → Workflows, through the admin's own links. */
async function openWorkflows(page: Page): Promise<void> {
  await page.getByRole("link", { name: "Settings", exact: true }).click()
  await page.waitForURL(/\/app\/settings/, { timeout: UI_DEADLINE_MS })
  await page.getByRole("link", { name: "Workflows", exact: true }).click()
  await page.waitForURL(/\/app\/settings\/workflows$/, { timeout: UI_DEADLINE_MS })
}

/** Searches the list for a transaction and opens its execution. */
async function openExecution(page: Page, transactionId: string): Promise<void> {
  await page.getByRole("textbox", { name: /search/i }).or(page.getByPlaceholder(/search/i)).first().fill(transactionId)
  const row = page.getByRole("row").filter({ hasText: transactionId })
  await row.first().waitFor({ timeout: UI_DEADLINE_MS })
  await row.first().click()
  await page.waitForURL(/\/app\/settings\/workflows\/wf_exec_/, { timeout: UI_DEADLINE_MS })
}

/** Presses Tab until `target` has the focus: what a keyboard user does to reach it. */
async function tabTo(page: Page, target: ReturnType<Page["locator"]>): Promise<void> {
  const handle = await target.elementHandle({ timeout: UI_DEADLINE_MS })
  for (let presses = 0; presses < MAX_TABS; presses++) {
    if (await handle!.evaluate((element) => element === document.activeElement)) {
      return
    }
    await page.keyboard.press("Tab")
  }
  throw new Error(`${MAX_TABS} presses of Tab did not reach ${target}`)
}

afterAll(async () => {
  await browser?.close()
  try {
    await demo?.stop(STOP_DEADLINE_MS)
  } finally {
    demo?.cleanUp()
  }
})

const describeWithChromium = hasChromium ? describe : describe.skip

describeWithChromium("the demo store's admin in Chromium", () => {
  it("logs in, lists the seeded executions and the storage card, purges, opens the failed one's timeline and retention, and retries a waiting step", async () => {
    demo = await startDemo()
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    })
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })

    await logIn(page, demo)
    await openWorkflows(page)
    const table = page.getByRole("table")
    for (const text of ["capture-payment", "send-order-confirmation", "capture-pay_2003"]) {
      await table.getByText(text, { exact: true }).first().waitFor({ timeout: UI_DEADLINE_MS })
    }
    await screenshot(page, "workflows-list")

    // The storage card, then a preview of the purge (the seed left expired runs) and the purge itself.
    const card = page.locator('[aria-labelledby="execution-storage-heading"]')
    await card.getByText("Executions per workflow").waitFor({ timeout: UI_DEADLINE_MS })
    await card.getByText("sync-inventory").first().waitFor({ timeout: UI_DEADLINE_MS })
    await card.screenshot({ path: path.join(SCREENSHOTS, "storage-card.png") })
    await card.getByRole("button", { name: "Preview purge" }).click()
    await card.getByText(/^\d+ executions would be deleted$/).waitFor({ timeout: UI_DEADLINE_MS })
    await card.getByRole("button", { name: "Purge now" }).click()
    await page.getByRole("alertdialog").getByRole("button", { name: "Purge now" }).click()
    await page.getByText("Purge done").first().waitFor({ timeout: UI_DEADLINE_MS })
    await card.getByRole("button", { name: "Preview purge" }).click()
    await card.getByText("Nothing to purge").waitFor({ timeout: UI_DEADLINE_MS })

    await openExecution(page, "sync-SKU-104")
    for (const text of ["sync-SKU-104", "reserve-stock", "publish-stock"]) {
      await page.getByText(text).first().waitFor({ timeout: UI_DEADLINE_MS })
    }
    const timeline = page.locator('[aria-labelledby="execution-timeline-heading"]')
    await timeline.getByText("reserve-stock").first().waitFor({ timeout: UI_DEADLINE_MS })
    const retention = page.locator('[aria-labelledby="execution-retention-heading"]')
    await retention.getByRole("heading", { name: "Retention" }).waitFor({ timeout: UI_DEADLINE_MS })
    await screenshot(page, "execution-detail")
    await timeline.locator("xpath=..").screenshot({ path: path.join(SCREENSHOTS, "execution-panel.png") })

    // The shipment whose courier never answered the first booking: retry that step, by keyboard only.
    await page.goto(`${demo.adminUrl}/settings/workflows`)
    await openExecution(page, "ship-order_1005")
    const shipment = page.locator('[aria-labelledby="execution-timeline-heading"]')
    const courier = shipment.getByRole("listitem").filter({ hasText: "book-courier" })
    await courier.getByText("Invoking").waitFor({ timeout: UI_DEADLINE_MS })
    // Only the step that waits for an answer is offered a retry.
    expect(await shipment.getByRole("button", { name: "Retry step" }).count()).toBe(1)
    await tabTo(page, courier.getByRole("button", { name: "Retry step" }))
    await page.keyboard.press("Enter")
    const dialog = page.getByRole("alertdialog")
    await dialog.getByText("Retry book-courier?").waitFor({ timeout: UI_DEADLINE_MS })
    await tabTo(page, dialog.getByRole("button", { name: "Retry step" }))
    await page.keyboard.press("Enter")
    await page.getByText("book-courier ran again").first().waitFor({ timeout: UI_DEADLINE_MS })
    await page.getByText("The execution is now done.").first().waitFor({ timeout: UI_DEADLINE_MS })
    await courier.getByText("Done", { exact: true }).waitFor({ timeout: UI_DEADLINE_MS })
    const tracking = shipment.getByRole("listitem").filter({ hasText: "email-tracking-number" })
    await tracking.getByText("Done", { exact: true }).waitFor({ timeout: UI_DEADLINE_MS })
    expect(await shipment.getByRole("button", { name: "Retry step" }).count()).toBe(0)
  })
})
