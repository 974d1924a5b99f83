import { Queryable } from "../../storage/sql/types"

/** Ends a lease at once: on a clean shutdown, or once a dead instance's work was taken over. */
export async function removeInstance(db: Queryable, id: string): Promise<void> {
  await db.raw(`DELETE FROM "workflow_engine_instance" WHERE "id" = ?`, [id])
}
