import {
  createStep,
  createWorkflow,
  StepResponse,
  transform,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"

import { hangsIfDoomed, isDoomed, isPaused, log } from "./cluster-workflows"
import {
  behaviourOf,
  CUT_ASYNC_TIMEOUT_SECONDS,
  CUT_RETRY_SECONDS,
  CUT_STEP,
  CUT_WF,
} from "./cut-workflows-ids"
import { gate } from "./gates"

/**
 * Workflows whose runs the cut-run tests kill at chosen moments (see
 * cut-workflows-ids for what the transaction id tells a step). Every
 * invocation and compensation is logged as `<transaction id>|<step>`, so the
 * test counts how often each step ran, and where.
 */

type Input = { key: string }
const invoked = (input: Input, step: string) =>
  log("invoke", `${input.key}|${step}`)
const heldIfPaused = async (input: Input) => {
  if (isPaused && behaviourOf(input.key) === "held") {
    await gate(input.key)
  }
}

const reserve = createStep(
  CUT_STEP.reserve,
  async (input: Input) => {
    await invoked(input, CUT_STEP.reserve)
    return new StepResponse(input, input)
  },
  async (input: Input | undefined) => {
    if (!input) {
      return
    }
    await log("compensate", `${input.key}|${CUT_STEP.reserve}`)
    if (behaviourOf(input.key) === "comphang") {
      await hangsIfDoomed()
    }
  }
)

const charge = createStep(
  { name: CUT_STEP.charge, maxRetries: 2, retryInterval: CUT_RETRY_SECONDS },
  async (input: Input) => {
    const before = await invoked(input, CUT_STEP.charge)
    const behaviour = behaviourOf(input.key)
    if (behaviour === "hang") {
      await hangsIfDoomed()
    }
    await heldIfPaused(input)
    if (behaviour === "failonce" && before === 0) {
      if (isDoomed) {
        await gate(input.key)
      }
      throw new Error("the first charge fails")
    }
    return new StepResponse(`charged ${input.key}`)
  }
)
createWorkflow(
  { name: CUT_WF.retry, store: true, retentionTime: 3600 },
  (input: Input) => {
    return new WorkflowResponse(charge(reserve(input)))
  }
)

const slow = createStep(
  { name: CUT_STEP.slow, timeout: 30 },
  async (input: Input) => {
    await invoked(input, CUT_STEP.slow)
    if (behaviourOf(input.key) === "hang") {
      await hangsIfDoomed()
    }
    return new StepResponse(`slow ${input.key}`)
  }
)
createWorkflow(
  { name: CUT_WF.stepTimeout, store: true, retentionTime: 3600 },
  (input: Input) => {
    return new WorkflowResponse(slow(reserve(input)))
  }
)

const askWithTimeout = createStep(
  {
    name: CUT_STEP.askBeforeTimeout,
    async: true,
    timeout: CUT_ASYNC_TIMEOUT_SECONDS,
  },
  async (input: Input) => {
    await invoked(input, CUT_STEP.askBeforeTimeout)
  }
)
createWorkflow(
  { name: CUT_WF.asyncTimeout, store: true, retentionTime: 3600 },
  (input: Input) => {
    askWithTimeout(reserve(input))
  }
)

const ask = createStep(
  { name: CUT_STEP.ask, async: true },
  async (input: Input) => {
    await invoked(input, CUT_STEP.ask)
  }
)
const finish = createStep(CUT_STEP.finish, async (input: Input) => {
  await invoked(input, CUT_STEP.finish)
  return new StepResponse(`finished ${input.key}`)
})
createWorkflow(
  {
    name: CUT_WF.transactionTimeout,
    store: true,
    retentionTime: 3600,
    timeout: 60,
  },
  (input: Input) => {
    const reserved = reserve(input)
    const asked = ask(reserved)
    // After the answer: the last step waits for the async one.
    return new WorkflowResponse(
      finish(transform({ asked, reserved }, ({ reserved }) => reserved))
    )
  }
)

const refuse = createStep(CUT_STEP.refuse, async (input: Input) => {
  await invoked(input, CUT_STEP.refuse)
  throw new Error(`refused ${input.key}`)
})
createWorkflow(
  { name: CUT_WF.compensating, store: true, retentionTime: 3600 },
  (input: Input) => {
    refuse(reserve(input))
  }
)

const hold = createStep(CUT_STEP.hold, async (input: Input) => {
  await invoked(input, CUT_STEP.hold)
  await heldIfPaused(input)
  return new StepResponse(input)
})
const after = createStep(CUT_STEP.after, async (input: Input) => {
  await invoked(input, CUT_STEP.after)
  return new StepResponse(`after ${input.key}`)
})
createWorkflow(
  { name: CUT_WF.sync, store: true, retentionTime: 3600 },
  (input: Input) => {
    return new WorkflowResponse(after(hold(reserve(input))))
  }
)
