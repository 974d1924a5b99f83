import { Browser, Locator, Page } from "playwright-core"
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
 * The plugin's widgets as Medusa's own admin is: in its dark theme as in its
 * light one (same surfaces as Medusa's containers, text no harder to read
 * than Medusa's own on the same page), and usable with the keyboard alone
 * (every action reached by Tab, its focus visible, its confirmation
 * answered or dismissed by keys).
 */

jest.setTimeout(DEMO_TEST_TIMEOUT_MS)

let demo: RunningDemo | undefined
let browser: Browser | undefined

type Surface = {
  background: string
  worstContrast: number
  worstText: string
  texts: number
}

/**
 * The background of `root`, and the lowest contrast between any visible text
 * under it (but in disabled controls) and what is painted behind that text (WCAG's ratio, colours with
 * alpha composited over the layers below them).
 */
function surfaceOf(root: Locator): Promise<Surface> {
  return root.evaluate((element: Element) => {
    type Rgba = [number, number, number, number]
    const parse = (css: string): Rgba => {
      const [r, g, b, a = 1] = (
        css.match(/[\d.]+/g) ?? ["0", "0", "0", "0"]
      ).map(Number)
      return [r, g, b, a]
    }
    const over = (top: Rgba, bottom: Rgba): Rgba => {
      const a = top[3] + bottom[3] * (1 - top[3])
      const mix = (i: number) =>
        (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / (a || 1)
      return [mix(0), mix(1), mix(2), a]
    }
    const painted = (node: Element): Rgba => {
      const layers: Rgba[] = []
      for (let at: Element | null = node; at; at = at.parentElement) {
        const layer = parse(getComputedStyle(at).backgroundColor)
        if (layer[3] > 0) {
          layers.push(layer)
        }
        if (layer[3] >= 1) {
          break
        }
      }
      return layers.reduceRight<Rgba>(
        (below, layer) => over(layer, below),
        [255, 255, 255, 1]
      )
    }
    const luminance = ([r, g, b]: Rgba) => {
      const channel = (c: number) => {
        const s = c / 255
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4
      }
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    }
    let worstContrast = Infinity
    let worstText = ""
    let texts = 0
    for (const node of [element, ...element.querySelectorAll("*")]) {
      const ownText = [...node.childNodes]
        .filter((child) => child.nodeType === Node.TEXT_NODE)
        .map((child) => child.textContent ?? "")
        .join("")
        .trim()
      const box = node.getBoundingClientRect()
      const style = getComputedStyle(node)
      const hidden =
        box.width === 0 ||
        box.height === 0 ||
        style.visibility === "hidden" ||
        Number(style.opacity) === 0
      // WCAG leaves disabled controls out (the list's "Prev" on its first page).
      const disabled =
        node.closest('[disabled], [aria-disabled="true"]') !== null
      if (!ownText || hidden || disabled) {
        continue
      }
      const background = painted(node)
      const text = over(parse(style.color), background)
      const [light, dark] = [luminance(text), luminance(background)].sort(
        (a, b) => b - a
      )
      const contrast = (light + 0.05) / (dark + 0.05)
      texts += 1
      if (contrast < worstContrast) {
        worstContrast = contrast
        worstText = ownText.slice(0, 60)
      }
    }
    return {
      background: `rgb(${painted(element).slice(0, 3).map(Math.round).join(", ")})`,
      worstContrast,
      worstText,
      texts,
    }
  })
}

/** Fails naming the hardest text to read, and how hard, when it is below `ratio`. */
function expectReadable(part: string, surface: Surface, ratio: number): void {
  if (surface.worstContrast < ratio) {
    throw new Error(
      `${part}: "${surface.worstText}" has a contrast of ${surface.worstContrast.toFixed(2)}:1, below ${ratio.toFixed(2)}:1`
    )
  }
}

/** Medusa's own container around the executions list, on the same page. */
function medusasListContainer(page: Page): Locator {
  return page
    .getByRole("table")
    .locator(
      "xpath=ancestor::div[contains(@class, 'shadow-elevation-card-rest')][1]"
    )
}

/** Tab to the button named `name` inside `scope`. */
const tabToButton = (
  page: Page,
  scope: Locator,
  name: string,
  maxPresses?: number
) => tabTo(page, scope.getByRole("button", { name, exact: true }), maxPresses)

/** Fails unless the focused button shows it: :focus-visible, and a ring it does not have at rest. */
async function expectVisibleFocus(button: Locator): Promise<void> {
  // Medusa's buttons animate their ring in: compare the looks they settle on.
  await button.page().addStyleTag({
    content: "*, *::before, *::after { transition: none !important; }",
  })
  const seen = await button.evaluate((element) => {
    const look = () => {
      const style = getComputedStyle(element)
      return `${style.boxShadow} / outline ${style.outlineStyle} ${style.outlineWidth}`
    }
    const visible = element.matches(":focus-visible")
    const focused = look()
    ;(element as HTMLElement).blur()
    const rest = look()
    ;(element as HTMLElement).focus()
    return { visible, focused, rest }
  })
  if (!seen.visible || seen.focused === seen.rest) {
    throw new Error(
      `No visible focus on ${await button.textContent()}: ${JSON.stringify(seen)}`
    )
  }
}

afterAll(() => closeAll(browser, demo))

describeWithChromium("keyboard-and-themes.spec.ts")(
  "the plugin's widgets in the admin's themes and by keyboard",
  () => {
    beforeAll(async () => {
      demo = await startDemo()
      browser = await launchChromium()
    })

    it("follows the admin's light and dark themes like Medusa's own containers", async () => {
      const seen: Record<string, Surface> = {}
      for (const colorScheme of ["light", "dark"] as const) {
        const page = await newAdminPage(browser!, { colorScheme })
        await logIn(page, demo!)
        await openWorkflows(page)
        expect(await page.locator("html").getAttribute("class")).toContain(
          colorScheme
        )

        const card = await surfaceOf(await storageCard(page))
        const medusas = await surfaceOf(medusasListContainer(page))
        expect(card.texts).toBeGreaterThan(10)
        expect(card.background).toBe(medusas.background)
        // No text of ours is harder to read than Medusa's own on the same page (or than WCAG's 4.5:1).
        const readable = Math.min(medusas.worstContrast, 4.5)
        expectReadable(`storage card, ${colorScheme} theme`, card, readable)

        await openExecution(page, "sync-SKU-104")
        const timeline = page.locator(
          '[aria-labelledby="execution-timeline-heading"]'
        )
        await timeline
          .getByText("reserve-stock")
          .first()
          .waitFor({ timeout: UI_DEADLINE_MS })
        const panel = await surfaceOf(timeline.locator("xpath=.."))
        expectReadable(`execution panel, ${colorScheme} theme`, panel, readable)

        seen[colorScheme] = card
        await page.context().close()
      }
      expect(seen.dark.background).not.toBe(seen.light.background)
    })

    it("previews and runs a purge, and opens and dismisses an erase, with the keyboard alone", async () => {
      const page = await newAdminPage(browser!)
      await logIn(page, demo!)
      await openWorkflows(page)
      const card = await storageCard(page)

      const preview = await tabToButton(page, card, "Preview purge")
      await expectVisibleFocus(preview)
      await page.keyboard.press("Enter")
      await card
        .getByText(/^\d+ executions would be deleted$/)
        .waitFor({ timeout: UI_DEADLINE_MS })

      await tabToButton(page, card, "Purge now", 5)
      await page.keyboard.press("Enter")
      const dialog = page.getByRole("alertdialog")
      await dialog.waitFor({ timeout: UI_DEADLINE_MS })
      await tabToButton(page, dialog, "Purge now", 5)
      await page.keyboard.press("Enter")
      await page
        .getByText("Purge done")
        .first()
        .waitFor({ timeout: UI_DEADLINE_MS })

      // A finished execution: Erase is offered; Escape answers its confirmation with "no".
      await openExecution(page, "sync-SKU-104")
      const panel = page.locator(
        '[aria-labelledby="execution-retention-heading"]'
      )
      const erase = await tabToButton(page, panel, "Erase execution")
      await expectVisibleFocus(erase)
      await page.keyboard.press("Enter")
      await dialog.waitFor({ timeout: UI_DEADLINE_MS })
      await page.keyboard.press("Escape")
      await dialog.waitFor({ state: "detached", timeout: UI_DEADLINE_MS })
      expect(page.url()).toMatch(/\/app\/settings\/workflows\/wf_exec_/)
      await page.reload()
      await page
        .locator('[aria-labelledby="execution-timeline-heading"]')
        .getByText("reserve-stock")
        .first()
        .waitFor({
          timeout: UI_DEADLINE_MS,
        })
    })
  }
)
