import { Browser } from "playwright-core"
import { waitUntil } from "../modules/__fixtures__/engine"
import { logInToAdminApi } from "../demo/demo-admin-api"
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
  UI_DEADLINE_MS,
} from "./admin-pages"

/**
 * How the demo store hears about a failed workflow: the engine emits
 * `workflow_execution.failed` for the seeded sync-inventory run that failed
 * (sync-SKU-104), the demo's subscriber
 * (playground/src/subscribers/workflow-failure-notification.ts) turns it into
 * a feed notification, and the admin's bell shows it with the path of the
 * run's page, which leads to that run.
 */

const DELIVERY_DEADLINE_MS = 60 * 1000

jest.setTimeout(DEMO_TEST_TIMEOUT_MS)

let demo: RunningDemo | undefined
let browser: Browser | undefined

afterAll(() => closeAll(browser, demo))

type Notification = { data: { title?: string; description?: string } }

/** The feed notifications every admin sees, through the admin API the bell calls. */
async function feedNotifications(
  running: RunningDemo
): Promise<() => Promise<Notification[]>> {
  const get = await logInToAdminApi(running)
  return async () =>
    (
      await get<{ notifications: Notification[] }>(
        "/admin/notifications?channel=feed&limit=100"
      )
    ).notifications
}

describeWithChromium("notification-bell.spec.ts")(
  "the demo store's failure notifications in the admin's bell",
  () => {
    it("shows the seeded sync-inventory failure in the bell, with the path that opens the run", async () => {
      demo = await startDemo()
      const listNotifications = await feedNotifications(demo)
      // The engine delivers its events from a background loop once the store runs.
      await waitUntil(
        async () =>
          (await listNotifications()).some(
            ({ data }) => data.title === "sync-inventory failed"
          ),
        DELIVERY_DEADLINE_MS,
        { what: "The sync-inventory failure's notification", everyMs: 1000 }
      )

      browser = await launchChromium()
      const page = await newAdminPage(browser)
      await logIn(page, demo)

      // The bell is a dialog trigger with no name of its own. While the admin is still rendering, the first
      // dialog trigger on the page may be another one: each is tried until the notifications' drawer opens.
      const drawer = page.getByRole("dialog", { name: "Notifications" })
      await waitUntil(
        async () => {
          const triggers = page.locator('button[aria-haspopup="dialog"]')
          for (let i = 0; i < (await triggers.count()); i++) {
            await triggers.nth(i).click({ timeout: UI_DEADLINE_MS })
            const opened = await drawer.waitFor({ timeout: 1000 }).then(
              () => true,
              () => false
            )
            if (opened) {
              return true
            }
            // Closes whatever other dialog the click opened.
            await page.keyboard.press("Escape")
          }
          return false
        },
        UI_DEADLINE_MS,
        { what: "the notifications' drawer", everyMs: 500 }
      )
      const failure = drawer
        .locator("div")
        .filter({
          has: page.getByText("sync-inventory failed", { exact: true }),
        })
        .filter({ hasText: "Open the run:" })
        .last()
      await failure.waitFor({ timeout: UI_DEADLINE_MS })
      const text = await failure.innerText()
      expect(text).toMatch(
        /^(publish-stock|reserve-stock): The (storefront|warehouse) .+ SKU-104$/m
      )
      const [, runPath] = text.match(
        /Open the run: (\/app\/settings\/workflows\/wf_exec_\w+)/
      )!

      await page.goto(new URL(runPath, demo.adminUrl).toString())
      for (const shown of ["sync-SKU-104", "publish-stock"]) {
        await page.getByText(shown).first().waitFor({ timeout: UI_DEADLINE_MS })
      }
    })
  }
)
