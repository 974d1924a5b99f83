import { model } from "@medusajs/framework/utils"

/**
 * One purge pass or erase request: the audit trail of what left the
 * `workflow_execution` table, when, why and at whose request.
 */
export const WorkflowExecutionPurge = model
  .define("workflow_execution_purge", {
    id: model.id({ prefix: "wf_purge" }).primaryKey(),
    /** What started it: the scheduled job, the admin, a direct call, or an erase request. */
    trigger: model.enum(["job", "admin", "manual", "erase"]),
    /** Who asked, when known (an admin user id, a script name). */
    actor: model.text().nullable(),
    /** A preview: `deleted` then counts what would have been deleted. */
    dry_run: model.boolean().default(false),
    deleted: model.number().default(0),
    batches: model.number().default(0),
    duration_ms: model.number().default(0),
    longest_batch_ms: model.number().default(0),
    /** For an erase request, the transaction ids it erased. */
    transaction_ids: model.json().nullable(),
    /** Set when the pass stopped on an error; the counts say what it did before. */
    error: model.text().nullable(),
    started_at: model.dateTime(),
    /** Expired runs the pass left because someone keeps them. */
    skipped_kept: model.number().default(0),
  })
  .indexes([{ on: ["created_at"], where: "deleted_at IS NULL" }])
