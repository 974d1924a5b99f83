import fs from "fs"
import {
  Browser,
  BrowserContextOptions,
  chromium,
  Locator,
  Page,
} from "playwright-core"
import type { RunningDemo } from "../demo/running-demo"

/**
 * What the browser tests share: Debian's Chromium driven by playwright-core
 * (never a browser download), and the admin's own ways to reach the pages.
 */

export const CHROMIUM = "/usr/bin/chromium"
export const UI_DEADLINE_MS = 60 * 1000
const STOP_DEADLINE_MS = 60 * 1000

export const hasChromium = fs.existsSync(CHROMIUM)

/** `describe` when Chromium is here; otherwise `describe.skip`, saying why once per file. */
export function describeWithChromium(file: string): jest.Describe {
  if (!hasChromium) {
    console.warn(
      `Skipping ${file}: ${CHROMIUM} is absent. Install Debian's chromium (apt-get install -y chromium) to run it; .ci/run does.`
    )
    return describe.skip
  }
  return describe
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
    ],
  })
}

export async function newAdminPage(
  browser: Browser,
  options: BrowserContextOptions = {}
): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1440, height: 900 },
    ...options,
  })
  return context.newPage()
}

export async function logIn(page: Page, running: RunningDemo): Promise<void> {
  await page.goto(running.adminUrl)
  // The admin redirects to its login page once it knows nobody is logged in.
  await page.waitForURL(/\/app\/login/, { timeout: UI_DEADLINE_MS })
  await page.locator('input[name="email"]').fill(running.email)
  await page.locator('input[name="password"]').fill(running.password)
  await page.locator('button[type="submit"]').click()
  await page.waitForURL((url) => !url.pathname.startsWith("/app/login"), {
    timeout: UI_DEADLINE_MS,
  })
}

/** Settings → Workflows, through the admin's own links. */
export async function openWorkflows(page: Page): Promise<void> {
  await page.getByRole("link", { name: "Settings", exact: true }).click()
  await page.waitForURL(/\/app\/settings/, { timeout: UI_DEADLINE_MS })
  await page.getByRole("link", { name: "Workflows", exact: true }).click()
  await page.waitForURL(/\/app\/settings\/workflows$/, {
    timeout: UI_DEADLINE_MS,
  })
}

/** Searches the list for a transaction and opens its execution. */
export async function openExecution(
  page: Page,
  transactionId: string
): Promise<void> {
  await page
    .getByRole("textbox", { name: /search/i })
    .or(page.getByPlaceholder(/search/i))
    .first()
    .fill(transactionId)
  // The search is debounced into the URL, then the list is fetched again: a
  // row of the unfiltered list clicked before that is re-rendered away.
  await page.waitForURL((url) => url.searchParams.get("q") === transactionId, {
    timeout: UI_DEADLINE_MS,
  })
  const row = page.getByRole("row").filter({ hasText: transactionId })
  const deadline = Date.now() + UI_DEADLINE_MS
  for (;;) {
    await row.first().click({ timeout: Math.max(deadline - Date.now(), 1) })
    try {
      await page.waitForURL(/\/app\/settings\/workflows\/wf_exec_/, {
        timeout: Math.min(5000, Math.max(deadline - Date.now(), 1)),
      })
      return
    } catch (error) {
      if (Date.now() >= deadline) {
        throw error
      }
    }
  }
}

/** The storage card on Settings → Workflows, once its figures are in. */
export async function storageCard(page: Page) {
  const card = page.locator('[aria-labelledby="execution-storage-heading"]')
  await card
    .getByText("Executions per workflow")
    .waitFor({ timeout: UI_DEADLINE_MS })
  return card
}

/** For afterAll: the browser, then the demo (Ctrl-C), then whatever is left of it. */
export async function closeAll(
  browser: Browser | undefined,
  demo: RunningDemo | undefined
): Promise<void> {
  await browser?.close()
  try {
    await demo?.stop(STOP_DEADLINE_MS)
  } finally {
    demo?.cleanUp()
  }
}

// Enough to cross the admin's sidebar and an execution's page to the plugin's panel.
const MAX_TABS = 200

/** Presses Tab until `target` has the focus, as a keyboard user reaches it; fails after `maxPresses`. */
export async function tabTo(
  page: Page,
  target: Locator,
  maxPresses = MAX_TABS
): Promise<Locator> {
  await target.waitFor({ timeout: UI_DEADLINE_MS })
  for (let press = 0; press < maxPresses; press++) {
    if (
      await target.evaluate((element) => element === document.activeElement)
    ) {
      return target
    }
    await page.keyboard.press("Tab")
  }
  throw new Error(`${maxPresses} presses of Tab did not reach ${target}`)
}
