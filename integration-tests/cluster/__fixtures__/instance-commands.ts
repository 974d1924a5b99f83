import { IWorkflowEngineService } from "@medusajs/framework/types"
import { release } from "./gates"

/** What the test asks of a running instance, over its IPC channel (see startInstance's `commands`). */
export type Command =
  | { run: { workflowId: string; transactionId: string } }
  | {
      stepSuccess: { workflowId: string; transactionId: string; stepId: string }
    }
  | { subscribe: { workflowId: string; transactionId: string } }
  | { release: string }
  | {
      list: {
        filters: Record<string, unknown>
        config: Record<string, unknown>
      }
    }

/** How a run ended for its caller: the state it returned, or the error it threw. */
export type RunReply = { state?: string; errors?: string[]; thrown?: string }

/** What a list command found: the rows of the page and the total. */
export type ListReply = { rows: number; count: number }

/** An onFinish a subscriber in the instance heard. */
export type Heard = { transactionId: string; state: string; errors: string[] }

const messageOf = (error: any) =>
  String(error?.error?.message ?? error?.message ?? error)

/**
 * Answers the test's commands, each with `{ id, reply }`. A run is answered
 * when its call returns, with the state it ended in or the error it threw:
 * what a caller of the engine would see.
 */
export function answerCommands(engine: IWorkflowEngineService): void {
  const handle = async (command: Command): Promise<unknown> => {
    if ("run" in command) {
      const { workflowId, transactionId } = command.run
      try {
        const { transaction, errors } = await engine.run(workflowId, {
          transactionId,
          input: { key: transactionId },
          throwOnError: false,
        })
        return {
          state: transaction.getFlow().state,
          errors: (errors ?? []).map(messageOf),
        } satisfies RunReply
      } catch (error) {
        return { thrown: messageOf(error) } satisfies RunReply
      }
    }
    if ("stepSuccess" in command) {
      const { workflowId, transactionId, stepId } = command.stepSuccess
      await engine.setStepSuccess({
        idempotencyKey: { workflowId, transactionId, stepId, action: "invoke" },
        stepResponse: "answered",
      })
      return {}
    }
    if ("subscribe" in command) {
      const { workflowId, transactionId } = command.subscribe
      await engine.subscribe({
        workflowId,
        transactionId,
        subscriber: (event: {
          eventType: string
          state?: string
          errors?: unknown[]
        }) => {
          if (event.eventType === "onFinish") {
            const heard: Heard = {
              transactionId,
              state: event.state!,
              errors: (event.errors ?? []).map(messageOf),
            }
            process.send?.({ heard })
          }
        },
      })
      return {}
    }
    if ("list" in command) {
      // What the admin's Settings → Workflows page asks of the module.
      const [executions, count] = await engine.listAndCountWorkflowExecutions(
        command.list.filters,
        command.list.config
      )
      return { rows: executions.length, count } satisfies ListReply
    }
    release(command.release)
    return {}
  }

  process.on("message", ({ id, command }: { id: number; command: Command }) => {
    handle(command).then(
      (reply) => process.send?.({ id, reply }),
      (error) => process.send?.({ id, error: messageOf(error) })
    )
  })
}
