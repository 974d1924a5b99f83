/** The colour Medusa's admin gives a transaction or step state. */
export type StateColor = "green" | "red" | "orange" | "grey" | "blue"

const COLORS: Record<string, StateColor> = {
  done: "green",
  failed: "red",
  reverted: "red",
  invoking: "orange",
  compensating: "orange",
  waiting_to_compensate: "orange",
  not_started: "grey",
  dormant: "grey",
  skipped: "grey",
  skipped_failure: "grey",
  timeout: "red",
}

export function stateColor(state: string): StateColor {
  return COLORS[state] ?? "blue"
}

/** "waiting_to_compensate" → "Waiting to compensate". */
export function stateLabel(state: string): string {
  const words = state.replace(/_/g, " ")
  return words.charAt(0).toUpperCase() + words.slice(1)
}

/** Tailwind classes of Medusa's ui tokens for the chart's state segments; they follow dark mode. */
export const STATE_BAR_CLASS: Record<StateColor, string> = {
  green: "bg-ui-tag-green-icon",
  red: "bg-ui-tag-red-icon",
  orange: "bg-ui-tag-orange-icon",
  grey: "bg-ui-tag-neutral-icon",
  blue: "bg-ui-tag-blue-icon",
}
