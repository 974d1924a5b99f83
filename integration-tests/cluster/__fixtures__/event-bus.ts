import { IEventBusModuleService } from "@medusajs/framework/types"
import LocalEventBusService from "@medusajs/event-bus-local/dist/services/event-bus-local"
import { WorkflowExecutionEvents } from "../../../src/modules/workflow-engine/events"

// Required when first used: cluster-workflows registers a schedule, which must go to the engine installed after this bus is made.
const log = (kind: string, key: string): Promise<number> =>
  require("./cluster-workflows").log(kind, key)

/**
 * The event bus of an instance process (EVENTS set): Medusa's local event bus,
 * with a subscriber that records in cluster_log (kind "event") every run event
 * it receives, as `<name>:<transaction id>:<event id>`. With EVENTS=hold,
 * every hand-over records "holding" and never returns: the instance has
 * claimed the event and dies (SIGKILL) before it records the delivery.
 */
export function instanceEventBus(mode: string): IEventBusModuleService {
  const bus = new LocalEventBusService(
    { logger: console } as never,
    {},
    {} as never
  )
  for (const name of Object.values(WorkflowExecutionEvents)) {
    bus.subscribe(name, async (event) => {
      const data = event.data as { transaction_id: string; event_id: string }
      await log("event", `${name}:${data.transaction_id}:${data.event_id}`)
    })
  }
  if (mode !== "hold") {
    return bus
  }
  return new Proxy(bus, {
    get: (target, property) =>
      property === "emit"
        ? async (message: { data: { transaction_id: string } }) => {
            await log("holding", message.data.transaction_id)
            return await new Promise(() => undefined)
          }
        : Reflect.get(target, property),
  })
}
