import { MagnifyingGlass } from "@medusajs/icons"
import {
  Badge,
  Button,
  Input,
  Label,
  Select,
  Text,
  toast,
  usePrompt,
} from "@medusajs/ui"
import { FormEvent, KeyboardEvent, useRef, useState } from "react"
import {
  BulkAction,
  BulkBody,
  BulkFilters,
  useBulkAction,
} from "../hooks/bulk-action"
import { formatCount } from "../lib/format"
import { stateLabel } from "../lib/states"

const ANY = "any"
const STATES = [
  "invoking",
  "waiting_to_compensate",
  "compensating",
  "not_started",
  "done",
  "failed",
  "reverted",
]

const REASONS: Record<string, string> = {
  nothing_to_retry: "no step waits for a retry",
  already_finished: "already finished",
  no_longer_matches: "no longer matches the filters",
  answered_meanwhile: "answered meanwhile",
}

const VERB = {
  retry: { noun: "Retry waiting steps", past: "retried", would: "would retry" },
  cancel: {
    noun: "Cancel runs in flight",
    past: "cancelled",
    would: "would cancel",
  },
}

type Fields = {
  action: "retry" | "cancel"
  workflow_id: string
  state: string
  from: string
  to: string
  resource_id: string
  q: string
}

const EMPTY: Fields = {
  action: "retry",
  workflow_id: "",
  state: ANY,
  from: "",
  to: "",
  resource_id: "",
  q: "",
}

function bodyOf(fields: Fields, dryRun: boolean): BulkBody {
  const filters: BulkFilters = {}
  if (fields.workflow_id.trim()) filters.workflow_id = fields.workflow_id.trim()
  if (fields.state !== ANY) filters.state = fields.state
  if (fields.resource_id.trim()) filters.resource_id = fields.resource_id.trim()
  if (fields.q.trim()) filters.q = fields.q.trim()
  if (fields.from || fields.to) {
    filters.created_at = {
      ...(fields.from
        ? { $gte: new Date(`${fields.from}T00:00:00`).toISOString() }
        : {}),
      ...(fields.to
        ? { $lte: new Date(`${fields.to}T23:59:59.999`).toISOString() }
        : {}),
    }
  }
  return { action: fields.action, filters, dry_run: dryRun }
}

function skippedText(result: BulkAction): string {
  const parts = Object.entries(result.skipped_by_reason).map(
    ([reason, count]) =>
      `${formatCount(count ?? 0)} ${REASONS[reason] ?? reason}`
  )
  return parts.length ? ` (${parts.join(", ")})` : ""
}

/**
 * Pick an action and the list's filters, Preview (a dry run: what it would
 * do), confirm, then see what happened to each run. Enter previews, Escape
 * clears the preview and the outcomes.
 */
export const BulkActionForm = () => {
  const bulk = useBulkAction()
  const prompt = usePrompt()
  const [fields, setFields] = useState<Fields>(EMPTY)
  const [preview, setPreview] = useState<BulkAction | null>(null)
  const [done, setDone] = useState<BulkAction | null>(null)
  // The prompt opens from no trigger of its own: focus comes back here when it closes.
  const actionButton = useRef<HTMLButtonElement>(null)

  const set = (name: keyof Fields) => (value: string) => {
    setFields((current) => ({ ...current, [name]: value }))
    // A preview says what these filters would do, not others.
    setPreview(null)
  }

  const runPreview = async (event?: FormEvent) => {
    event?.preventDefault()
    try {
      setDone(null)
      setPreview(await bulk.mutateAsync(bodyOf(fields, true)))
    } catch (error) {
      toast.error("Preview failed", { description: (error as Error).message })
    }
  }

  const runAction = async () => {
    if (!preview) {
      return
    }
    const verb = VERB[fields.action]
    const confirmed = await prompt({
      title: `${verb.noun}?`,
      description: `At the preview this ${verb.would} ${formatCount(preview.acted)} runs and skip ${formatCount(preview.skipped)}. Each run is checked again as it is reached: one that no longer matches or was answered meanwhile is skipped.`,
      confirmText: fields.action === "retry" ? "Retry runs" : "Cancel runs",
      cancelText: "Back",
    })
    if (!confirmed) {
      actionButton.current?.focus()
      return
    }
    try {
      const result = await bulk.mutateAsync(bodyOf(fields, false))
      setPreview(null)
      setDone(result)
      toast.success("Bulk action done", {
        description: `${formatCount(result.acted)} ${verb.past}, ${formatCount(result.skipped)} skipped, ${formatCount(result.failed)} failed.`,
      })
    } catch (error) {
      toast.error("Bulk action failed", {
        description: (error as Error).message,
      })
    }
  }

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape" && (preview || done)) {
      event.stopPropagation()
      setPreview(null)
      setDone(null)
    }
  }

  const verb = VERB[fields.action]
  return (
    <form
      className="flex flex-col gap-y-3"
      onSubmit={runPreview}
      onKeyDown={onKeyDown}
      aria-describedby="bulk-action-help"
    >
      <Text size="small" className="text-ui-fg-subtle" id="bulk-action-help">
        Acts on every stored run the filters match, in batches. Enter previews;
        Escape clears the preview.
      </Text>
      {/* Inline: the admin's Tailwind build holds only the classes it finds in its own pages. */}
      <div
        style={{
          display: "grid",
          gridTemplateColumns: "repeat(auto-fill, minmax(14rem, 1fr))",
          gap: "0.75rem",
        }}
      >
        <div className="flex flex-col gap-y-1">
          <Label size="small" htmlFor="bulk-action">
            Action
          </Label>
          <Select
            value={fields.action}
            onValueChange={set("action") as (value: string) => void}
          >
            <Select.Trigger id="bulk-action">
              <Select.Value />
            </Select.Trigger>
            <Select.Content>
              <Select.Item value="retry">{VERB.retry.noun}</Select.Item>
              <Select.Item value="cancel">{VERB.cancel.noun}</Select.Item>
            </Select.Content>
          </Select>
        </div>
        <TextField
          id="bulk-workflow-id"
          label="Workflow id"
          value={fields.workflow_id}
          onChange={set("workflow_id")}
        />
        <div className="flex flex-col gap-y-1">
          <Label size="small" htmlFor="bulk-state">
            State
          </Label>
          <Select value={fields.state} onValueChange={set("state")}>
            <Select.Trigger id="bulk-state">
              <Select.Value />
            </Select.Trigger>
            <Select.Content>
              <Select.Item value={ANY}>Any state</Select.Item>
              {STATES.map((state) => (
                <Select.Item key={state} value={state}>
                  {stateLabel(state)}
                </Select.Item>
              ))}
            </Select.Content>
          </Select>
        </div>
        <TextField
          id="bulk-resource-id"
          label="Resource id"
          placeholder="order_…, cart_…, cus_…"
          value={fields.resource_id}
          onChange={set("resource_id")}
        />
        <TextField
          id="bulk-created-from"
          label="Created from"
          type="date"
          value={fields.from}
          onChange={set("from")}
        />
        <TextField
          id="bulk-created-to"
          label="Created until"
          type="date"
          value={fields.to}
          onChange={set("to")}
        />
        <TextField
          id="bulk-q"
          label="Contains text"
          placeholder="transaction id, workflow, state"
          value={fields.q}
          onChange={set("q")}
        />
        <div className="flex items-end gap-x-2">
          <Button
            size="small"
            variant="secondary"
            type="submit"
            isLoading={bulk.isPending && !preview}
          >
            <MagnifyingGlass />
            Preview
          </Button>
          {preview && preview.acted > 0 && (
            <Button
              ref={actionButton}
              size="small"
              variant="danger"
              type="button"
              onClick={runAction}
              isLoading={bulk.isPending}
            >
              {fields.action === "retry" ? "Retry runs" : "Cancel runs"}
            </Button>
          )}
        </div>
      </div>
      <div role="status" aria-live="polite">
        {preview && (
          <Text size="small" leading="compact" weight="plus">
            {`${verb.would[0].toUpperCase()}${verb.would.slice(1)} ${formatCount(preview.acted)} runs, skip ${formatCount(preview.skipped)}${skippedText(preview)}`}
            {preview.more &&
              ` · more than ${formatCount(preview.matched)} match: the rest wait for another run`}
          </Text>
        )}
        {done && (
          <Text size="small" leading="compact" weight="plus">
            {`${formatCount(done.acted)} ${verb.past}, ${formatCount(done.skipped)} skipped${skippedText(done)}, ${formatCount(done.failed)} failed`}
          </Text>
        )}
      </div>
      {done && done.outcomes.length > 0 && <Outcomes result={done} />}
    </form>
  )
}

const TextField = ({
  id,
  label,
  value,
  onChange,
  placeholder,
  type = "text",
}: {
  id: string
  label: string
  value: string
  onChange: (value: string) => void
  placeholder?: string
  type?: string
}) => (
  <div className="flex flex-col gap-y-1">
    <Label size="small" htmlFor={id}>
      {label}
    </Label>
    <Input
      id={id}
      size="small"
      type={type}
      value={value}
      placeholder={placeholder}
      onChange={(event) => onChange(event.target.value)}
    />
  </div>
)

const OUTCOME_COLOR = {
  retried: "green",
  cancelled: "green",
  would_retry: "blue",
  would_cancel: "blue",
  skipped: "grey",
  failed: "red",
} as const

/** What happened to each run, linked to its page. */
const Outcomes = ({ result }: { result: BulkAction }) => (
  <ul className="flex flex-col gap-y-1" aria-label="Outcome per run">
    {result.outcomes.map((outcome) => (
      <li key={outcome.id} className="flex flex-wrap items-center gap-x-2">
        <Badge size="2xsmall" color={OUTCOME_COLOR[outcome.outcome]}>
          {outcome.outcome}
        </Badge>
        <a
          href={`/app/settings/workflows/${encodeURIComponent(outcome.id)}`}
          className="txt-compact-small text-ui-fg-interactive hover:underline"
        >
          {outcome.workflow_id} · {outcome.transaction_id}
        </a>
        {(outcome.reason || outcome.message) && (
          <Text size="small" leading="compact" className="text-ui-fg-subtle">
            {outcome.reason ? REASONS[outcome.reason] : ""}
            {outcome.message ? ` — ${outcome.message}` : ""}
          </Text>
        )}
      </li>
    ))}
  </ul>
)
