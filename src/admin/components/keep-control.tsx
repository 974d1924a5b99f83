import { LockClosedSolid, LockOpenSolid } from "@medusajs/icons"
import { Button, Input, Label, Text, toast } from "@medusajs/ui"
import { FormEvent, useState } from "react"
import type { ExecutionRetention } from "../hooks/execution-retention"
import { useKeepExecution } from "../hooks/keep-execution"
import { formatDate } from "../lib/format"

/**
 * Keep a finished execution from the purge (with a reason), or stop keeping
 * it; says who keeps it, why and since when. Runs in flight are never purged,
 * so there is nothing to keep yet.
 */
export const KeepControl = ({
  retention,
}: {
  retention: ExecutionRetention
}) => {
  const keep = useKeepExecution(retention.id)
  const [reason, setReason] = useState("")

  if (!retention.finished) {
    return null
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (!reason.trim()) {
      return
    }
    try {
      await keep.mutateAsync(reason.trim())
      setReason("")
      toast.success("Kept", {
        description:
          "No purge deletes this execution until you stop keeping it.",
      })
    } catch (error) {
      toast.error("Keep failed", { description: (error as Error).message })
    }
  }

  const stop = async () => {
    try {
      await keep.mutateAsync(null)
      toast.success("No longer kept", {
        description: "Its own retention applies again.",
      })
    } catch (error) {
      toast.error("Stop keeping failed", {
        description: (error as Error).message,
      })
    }
  }

  if (retention.kept) {
    return (
      <div className="flex flex-wrap items-center justify-between gap-2">
        <Text size="small" className="text-ui-fg-subtle">
          Kept from the purge by {retention.kept.by ?? "an unknown user"} since{" "}
          {formatDate(retention.kept.at)}: “{retention.kept.reason}”.
        </Text>
        <Button
          size="small"
          variant="secondary"
          onClick={stop}
          isLoading={keep.isPending}
        >
          <LockOpenSolid />
          Stop keeping
        </Button>
      </div>
    )
  }

  return (
    <form
      className="flex flex-wrap items-end justify-between gap-2"
      onSubmit={submit}
    >
      <div
        className="flex flex-1 flex-col gap-y-1"
        style={{ minWidth: "16rem" }}
      >
        <Label size="small" htmlFor={`keep-reason-${retention.id}`}>
          Keep from the purge, because
        </Label>
        <Input
          id={`keep-reason-${retention.id}`}
          size="small"
          value={reason}
          maxLength={1000}
          placeholder="e.g. disputed order, kept for the chargeback"
          onChange={(event) => setReason(event.target.value)}
        />
      </div>
      <Button
        size="small"
        variant="secondary"
        type="submit"
        disabled={!reason.trim()}
        isLoading={keep.isPending}
      >
        <LockClosedSolid />
        Keep
      </Button>
    </form>
  )
}
