import type { HttpTypes } from "@medusajs/framework/types"
import { Trash, XCircle } from "@medusajs/icons"
import { Button, Text, toast, usePrompt } from "@medusajs/ui"
import { useNavigate } from "react-router-dom"
import { useCancelExecution } from "../hooks/cancel-execution"
import { useErase } from "../hooks/erase"
import type { ExecutionRetention } from "../hooks/execution-retention"
import { stateLabel } from "../lib/states"

type Props = {
  execution: HttpTypes.AdminWorkflowExecution
  retention: ExecutionRetention
}

/** What can be done with this execution in its state: cancel it in flight, erase it once finished. */
export const ExecutionActions = ({ execution, retention }: Props) => {
  const prompt = usePrompt()
  const navigate = useNavigate()
  const erase = useErase()
  const cancel = useCancelExecution(execution.id)

  const eraseExecution = async () => {
    const confirmed = await prompt({
      title: "Erase this transaction's executions?",
      description: `Every stored execution of transaction ${execution.transaction_id} is deleted now, in every workflow, whatever its retention. The audit trail keeps the transaction id and who asked.`,
      confirmText: "Erase",
      cancelText: "Cancel",
    })
    if (!confirmed) {
      return
    }
    try {
      const result = await erase.mutateAsync([execution.transaction_id])
      toast.success("Erased", {
        description: `${result.deleted} executions deleted.`,
      })
      void navigate("/settings/workflows")
    } catch (error) {
      toast.error("Erase failed", { description: (error as Error).message })
    }
  }

  const cancelExecution = async () => {
    const confirmed = await prompt({
      title: "Cancel this execution?",
      description:
        "The steps it finished are compensated, as when a workflow fails.",
      confirmText: "Cancel execution",
      cancelText: "Keep running",
    })
    if (!confirmed) {
      return
    }
    try {
      const result = await cancel.mutateAsync()
      toast.success("Cancelled", {
        description: `The execution is now ${stateLabel(result.state).toLowerCase()}.`,
      })
    } catch (error) {
      toast.error("Cancel failed", { description: (error as Error).message })
    }
  }

  return (
    <div className="flex flex-wrap items-center justify-between gap-2">
      <Text size="small" className="text-ui-fg-subtle">
        {retention.finished
          ? "Finished: it can be erased now (for a privacy request) instead of waiting for its retention."
          : "In flight: it can be cancelled; its finished steps are compensated."}
      </Text>
      {retention.finished ? (
        <Button
          size="small"
          variant="danger"
          onClick={eraseExecution}
          isLoading={erase.isPending}
        >
          <Trash />
          Erase execution
        </Button>
      ) : (
        <Button
          size="small"
          variant="secondary"
          onClick={cancelExecution}
          isLoading={cancel.isPending}
        >
          <XCircle />
          Cancel execution
        </Button>
      )}
    </div>
  )
}
