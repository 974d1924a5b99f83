import { MagnifyingGlass, Trash } from "@medusajs/icons"
import { Button, Text, toast, usePrompt } from "@medusajs/ui"
import { useState } from "react"
import { usePurge } from "../hooks/purge"
import { formatCount, formatMs } from "../lib/format"

/** "Preview purge" → the count → "Purge now", after a confirmation. */
export const PurgeActions = () => {
  const purge = usePurge()
  const prompt = usePrompt()
  const [preview, setPreview] = useState<number | null>(null)

  const runPreview = async () => {
    try {
      const result = await purge.mutateAsync({ dry_run: true })
      setPreview(result.would_delete ?? 0)
    } catch (error) {
      toast.error("Preview failed", { description: (error as Error).message })
    }
  }

  const runPurge = async () => {
    const confirmed = await prompt({
      title: "Purge expired executions?",
      description: `This deletes the finished executions past their retention now (${formatCount(preview ?? 0)} at the preview). Executions in flight are never touched.`,
      confirmText: "Purge now",
      cancelText: "Cancel",
    })
    if (!confirmed) {
      return
    }
    try {
      const result = await purge.mutateAsync({})
      setPreview(null)
      toast.success("Purge done", {
        description: `${formatCount(result.deleted)} executions deleted in ${formatMs(result.duration_ms)}.`,
      })
    } catch (error) {
      toast.error("Purge failed", { description: (error as Error).message })
    }
  }

  return (
    <div className="flex items-center gap-x-2">
      {preview !== null && (
        <Text
          size="small"
          leading="compact"
          className="text-ui-fg-subtle"
          role="status"
          aria-live="polite"
        >
          {preview === 0
            ? "Nothing to purge"
            : `${formatCount(preview)} executions would be deleted`}
        </Text>
      )}
      <Button
        size="small"
        variant="secondary"
        onClick={runPreview}
        isLoading={purge.isPending && preview === null}
      >
        <MagnifyingGlass />
        Preview purge
      </Button>
      {preview !== null && preview > 0 && (
        <Button
          size="small"
          variant="danger"
          onClick={runPurge}
          isLoading={purge.isPending}
        >
          <Trash />
          Purge now
        </Button>
      )}
    </div>
  )
}
