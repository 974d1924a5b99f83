import { TransactionState } from "@medusajs/framework/utils"
import { RunResult } from "./engine-recorder"

/** The result a finished run is counted under; undefined while it is not finished. */
export function runResultOf(flow: {
  state: string
  cancelledAt?: number
}): RunResult | undefined {
  switch (flow.state) {
    case TransactionState.DONE:
      return "done"
    case TransactionState.FAILED:
      return "failed"
    case TransactionState.REVERTED:
      return flow.cancelledAt ? "cancelled" : "reverted"
    default:
      return undefined
  }
}
