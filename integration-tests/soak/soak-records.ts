import { RunReply } from "../cluster/__fixtures__/instance-commands"
import { SoakWorkflow } from "./__fixtures__/soak-workflows-ids"

/** A run a client started, and what it was told. Times are the harness's Date.now(), as is the database's clock here. */
export type SoakRun = {
  transactionId: string
  workflowId: SoakWorkflow
  slot: string
  /** The process asked to start it. */
  instance: string
  sentAt: number
  repliedAt?: number
  /** What engine.run returned, or the error it threw. */
  reply?: RunReply
  /** Why no reply came: the process was killed before it answered, or none within the client's deadline. */
  cut?: string
  cutAt?: number
  /** The processes asked to answer its async step (SOAK_WF.answered), in order; each may have applied it before a kill cut its reply. */
  answerSentTo: { instance: string; at: number }[]
  /** The process that said it applied the answer, and when. */
  answeredBy?: string
  answeredAt?: number
  /** The harness saw the run's row finished (or deleted). */
  endedAt?: number
}

/** Told started: engine.run returned (with the run in flight or ended), not thrown, not cut. */
export const isAcknowledged = (run: SoakRun) =>
  run.reply !== undefined && run.reply.thrown === undefined

/** One request to an instance, for latency and errors. */
export type RequestSample = {
  kind: "run" | "answer" | "list"
  workflowId?: SoakWorkflow
  instance: string
  sentAt: number
  ms: number
  error?: string
}

export type Fault =
  | {
      kind: "kill"
      at: number
      process: string
      slot: string
      pid: number
      back?: number
    }
  | { kind: "db-restart"; at: number; back?: number }

/** How many runs each slot's clients had in flight at one moment. */
export type InFlightSample = { at: number; bySlot: Record<string, number> }
