import path from "path"
import { Browser, Locator, Page } from "playwright-core"
import {
  executionLister,
  logInToAdminApi,
  seededCapturesRetried,
} from "../demo/demo-admin-api"
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
 * The bulk action on Settings → Workflows and the Keep button of an
 * execution, in the demo's admin, with the keyboard alone: fields reached by
 * Tab and named by their labels, Enter previews, Escape clears, the
 * confirmation answered by keys, and then what happened to each run.
 */

jest.setTimeout(DEMO_TEST_TIMEOUT_MS)

// As admin.spec: `npm run screenshots` sends them to docs/screenshots.
const SCREENSHOTS = process.env.SCREENSHOTS_DIR
  ? path.resolve(process.env.SCREENSHOTS_DIR)
  : path.join(__dirname, "screenshots")

let demo: RunningDemo | undefined
let browser: Browser | undefined

const tabToButton = (page: Page, scope: Locator, name: string, max?: number) =>
  tabTo(page, scope.getByRole("button", { name, exact: true }), max)

afterAll(() => closeAll(browser, demo))

describeWithChromium("bulk-action.spec.ts")(
  "bulk action and keep in the admin",
  () => {
    beforeAll(async () => {
      demo = await startDemo()
      browser = await launchChromium()
    })

    it("previews a bulk retry, confirms it, and shows each run's outcome, by keyboard", async () => {
      const page = await newAdminPage(browser!)
      await logIn(page, demo!)
      await openWorkflows(page)
      const card = page.locator('[aria-labelledby="bulk-action-heading"]')

      // The demo's three seeded capture-payment runs: one waits for its capture, two were captured once
      // the server retried their first, failed capture (the preview is read once, so after that).
      await seededCapturesRetried(executionLister(await logInToAdminApi(demo!)))
      await tabTo(page, card.getByLabel("Workflow id"))
      await page.keyboard.type("capture-payment")
      await tabTo(page, card.getByLabel("Contains text"), 20)
      await page.keyboard.type("capture-pay_200")
      await page.keyboard.press("Enter")
      const preview = card.getByText(
        "Would retry 1 runs, skip 2 (2 already finished)"
      )
      await preview.waitFor({ timeout: UI_DEADLINE_MS })

      // Escape clears the preview; Enter brings it back.
      await page.keyboard.press("Escape")
      await preview.waitFor({ state: "detached", timeout: UI_DEADLINE_MS })
      await page.keyboard.press("Enter")
      await preview.waitFor({ timeout: UI_DEADLINE_MS })

      // Back out of the confirmation with Escape: nothing is retried.
      await tabToButton(page, card, "Retry runs", 20)
      await page.keyboard.press("Enter")
      const dialog = page.getByRole("alertdialog")
      await dialog.waitFor({ timeout: UI_DEADLINE_MS })
      await page.keyboard.press("Escape")
      await dialog.waitFor({ state: "detached", timeout: UI_DEADLINE_MS })
      await preview.waitFor({ timeout: UI_DEADLINE_MS })

      // The focus is back on the button the confirmation came from.
      await tabToButton(page, card, "Retry runs", 1)
      await page.keyboard.press("Enter")
      await dialog.waitFor({ timeout: UI_DEADLINE_MS })
      await tabToButton(page, dialog, "Retry runs", 5)
      await page.keyboard.press("Enter")
      await card
        .getByText("1 retried, 2 skipped (2 already finished), 0 failed")
        .waitFor({ timeout: UI_DEADLINE_MS })
      const outcomes = card.getByRole("list", { name: "Outcome per run" })
      await outcomes
        .getByRole("listitem")
        .filter({ hasText: "capture-pay_2003" })
        .getByText("retried")
        .waitFor({ timeout: UI_DEADLINE_MS })
      expect(
        await outcomes
          .getByRole("listitem")
          .filter({ hasText: "already finished" })
          .count()
      ).toBe(2)
      await card.screenshot({ path: path.join(SCREENSHOTS, "bulk-action.png") })

      await page.context().close()
    })

    it("keeps a finished execution with a reason, shows who keeps it, and stops keeping it", async () => {
      const page = await newAdminPage(browser!)
      await logIn(page, demo!)
      await openWorkflows(page)
      // The list and the cards above it are in before the search is typed.
      await storageCard(page)
      await openExecution(page, "sync-SKU-104")
      const panel = page.locator(
        '[aria-labelledby="execution-retention-heading"]'
      )
      const reason = panel.getByLabel("Keep from the purge, because")
      await tabTo(page, reason)
      await page.keyboard.type("stock audit")
      await page.keyboard.press("Enter")
      await panel
        .getByText(/Kept from the purge by .+: “stock audit”/)
        .waitFor({ timeout: UI_DEADLINE_MS })

      await tabToButton(page, panel, "Stop keeping")
      await page.keyboard.press("Enter")
      await reason.waitFor({ timeout: UI_DEADLINE_MS })
      await page.context().close()
    })
  }
)
