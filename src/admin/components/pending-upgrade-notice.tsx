import { Alert, Text } from "@medusajs/ui"
import type { ExecutionStorage } from "../hooks/execution-storage"
import { formatDate } from "../lib/format"

/**
 * What `medusa db:migrate` left to the module and nothing has run yet: until
 * it is done, the card's figures and every purge read the whole table. Says
 * what finishes it, since a store whose instances all run in `server` mode
 * never will by itself.
 */
export const PendingUpgradeNotice = ({
  upgrade,
}: {
  upgrade: NonNullable<ExecutionStorage["upgrade"]>
}) => {
  const builds = upgrade.tasks.filter((task) =>
    task.startsWith("index:")
  ).length
  const backfills = upgrade.tasks.length - builds
  return (
    <Alert variant="warning" aria-label="Upgrade pending">
      <Text size="small" weight="plus">
        Upgrade pending since {formatDate(upgrade.queued_at)}
      </Text>
      <Text size="small">
        {backfills} back-fill{backfills === 1 ? "" : "s"} and {builds} index
        build{builds === 1 ? "" : "s"} left by <code>medusa db:migrate</code>.
        Until they are done, these figures and every purge read the whole table,
        as Medusa's engine does. An instance in worker or shared mode finishes
        them when it starts; where every instance runs in server mode, run{" "}
        <code>finishUpgrade()</code> from a <code>medusa exec</code> script.
      </Text>
    </Alert>
  )
}
