import fs from "fs"
import path from "path"
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
  openExecution,
  openWorkflows,
  storageCard,
  tabTo,
  UI_DEADLINE_MS,
} from "./admin-pages"

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

const SCREENSHOTS = process.env.SCREENSHOTS_DIR
  ? path.resolve(process.env.SCREENSHOTS_DIR)
  : path.join(__dirname, "screenshots")

jest.setTimeout(DEMO_TEST_TIMEOUT_MS)

let demo: RunningDemo | undefined
let browser: Browser | undefined

async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({
    path: path.join(SCREENSHOTS, `${name}.png`),
    fullPage: true,
  })
}

afterAll(() => closeAll(browser, demo))

describeWithChromium("admin.spec.ts")(
  "the demo store's admin in Chromium",
  () => {
    it("logs in, lists the seeded executions and the storage card, purges, opens the failed one's timeline and retention, and retries a waiting step", async () => {
      demo = await startDemo()
      browser = await launchChromium()
      const page = await newAdminPage(browser)

      await logIn(page, demo)
      await openWorkflows(page)
      const table = page.getByRole("table")
      for (const text of [
        "capture-payment",
        "send-order-confirmation",
        "capture-pay_2003",
      ]) {
        await table
          .getByText(text, { exact: true })
          .first()
          .waitFor({ timeout: UI_DEADLINE_MS })
      }
      await screenshot(page, "workflows-list")

      // The storage card, then a preview of the purge (the seed left expired runs) and the purge itself.
      const card = await storageCard(page)
      await card
        .getByText("sync-inventory")
        .first()
        .waitFor({ timeout: UI_DEADLINE_MS })
      await card.screenshot({
        path: path.join(SCREENSHOTS, "storage-card.png"),
      })
      await card.getByRole("button", { name: "Preview purge" }).click()
      await card
        .getByText(/^\d+ executions would be deleted$/)
        .waitFor({ timeout: UI_DEADLINE_MS })
      await card.getByRole("button", { name: "Purge now" }).click()
      await page
        .getByRole("alertdialog")
        .getByRole("button", { name: "Purge now" })
        .click()
      await page
        .getByText("Purge done")
        .first()
        .waitFor({ timeout: UI_DEADLINE_MS })
      await card.getByRole("button", { name: "Preview purge" }).click()
      await card
        .getByText("Nothing to purge")
        .waitFor({ timeout: UI_DEADLINE_MS })

      await openExecution(page, "sync-SKU-104")
      for (const text of ["sync-SKU-104", "reserve-stock", "publish-stock"]) {
        await page.getByText(text).first().waitFor({ timeout: UI_DEADLINE_MS })
      }
      const timeline = page.locator(
        '[aria-labelledby="execution-timeline-heading"]'
      )
      await timeline
        .getByText("reserve-stock")
        .first()
        .waitFor({ timeout: UI_DEADLINE_MS })
      const retention = page.locator(
        '[aria-labelledby="execution-retention-heading"]'
      )
      await retention
        .getByRole("heading", { name: "Retention" })
        .waitFor({ timeout: UI_DEADLINE_MS })
      await screenshot(page, "execution-detail")
      await timeline
        .locator("xpath=..")
        .screenshot({ path: path.join(SCREENSHOTS, "execution-panel.png") })

      // The shipment whose courier never answered the first booking: retry that step, by keyboard only.
      await page.goto(`${demo.adminUrl}/settings/workflows`)
      await openExecution(page, "ship-order_1005")
      const shipment = page.locator(
        '[aria-labelledby="execution-timeline-heading"]'
      )
      const courier = shipment
        .getByRole("listitem")
        .filter({ hasText: "book-courier" })
      await courier.getByText("Invoking").waitFor({ timeout: UI_DEADLINE_MS })
      // Only the step that waits for an answer is offered a retry.
      expect(
        await shipment.getByRole("button", { name: "Retry step" }).count()
      ).toBe(1)
      await tabTo(page, courier.getByRole("button", { name: "Retry step" }))
      await page.keyboard.press("Enter")
      const dialog = page.getByRole("alertdialog")
      await dialog
        .getByText("Retry book-courier?")
        .waitFor({ timeout: UI_DEADLINE_MS })
      await tabTo(page, dialog.getByRole("button", { name: "Retry step" }))
      await page.keyboard.press("Enter")
      await page
        .getByText("book-courier ran again")
        .first()
        .waitFor({ timeout: UI_DEADLINE_MS })
      await page
        .getByText("The execution is now done.")
        .first()
        .waitFor({ timeout: UI_DEADLINE_MS })
      await courier
        .getByText("Done", { exact: true })
        .waitFor({ timeout: UI_DEADLINE_MS })
      const tracking = shipment
        .getByRole("listitem")
        .filter({ hasText: "email-tracking-number" })
      await tracking
        .getByText("Done", { exact: true })
        .waitFor({ timeout: UI_DEADLINE_MS })
      expect(
        await shipment.getByRole("button", { name: "Retry step" }).count()
      ).toBe(0)
    })
  }
)
