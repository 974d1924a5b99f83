import { createStep, createWorkflow } from "@medusajs/framework/workflows-sdk"
import { EVENT_WF } from "./event-workflows-ids"

const alwaysFails = createStep("cluster-event-step", async () => {
  throw new Error("fails for the event test")
})
createWorkflow({ name: EVENT_WF.fails, store: true }, () => {
  alwaysFails()
})
