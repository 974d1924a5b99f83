/**
 * The one definition of "that instance is alive": its lease, renewed by its
 * heartbeat, has not run out on the database clock. `column` names the
 * instance id being asked about (a claimer, an owner).
 */
export function isLive(column: string): string {
  return `EXISTS (SELECT 1 FROM "workflow_engine_instance" i
                   WHERE i."id" = ${column} AND i."lease_expires_at" > now())`
}
