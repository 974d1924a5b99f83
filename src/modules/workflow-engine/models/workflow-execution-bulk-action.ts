import { model } from "@medusajs/framework/utils"

/**
 * One bulk retry or cancel of stored runs (or its preview): the audit trail
 * beside the purges', with who asked, the filters, and what it did.
 */
export const WorkflowExecutionBulkAction = model
  .define("workflow_execution_bulk_action", {
    id: model.id({ prefix: "wf_bulk" }).primaryKey(),
    action: model.enum(["retry", "cancel"]),
    /** Who asked (an admin user id), when known. */
    actor: model.text().nullable(),
    /** A preview: `acted` then counts the runs it would have acted on. */
    dry_run: model.boolean().default(false),
    /** The list filters it selected runs with, as given. */
    filters: model.json(),
    /** Runs the filters matched when it read them. */
    matched: model.number().default(0),
    /** Runs retried or cancelled (or, on a dry run, that would be). */
    acted: model.number().default(0),
    /** Runs left alone, each for a reason the response gives. */
    skipped: model.number().default(0),
    batches: model.number().default(0),
    duration_ms: model.number().default(0),
    /** Set when it stopped on an error; the counts say what it did before. */
    error: model.text().nullable(),
  })
  .indexes([{ on: ["created_at"], where: "deleted_at IS NULL" }])
