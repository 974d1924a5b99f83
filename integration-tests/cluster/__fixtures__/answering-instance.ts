/**
 * An engine instance as its own OS process that takes part in answer races:
 * on `{ round, phase: "start" }` the round's starter starts the run; on
 * `{ round, phase: "answer" }` every instance reads its answer for the round
 * with FOR SHARE, which blocks while the test holds the round row FOR UPDATE,
 * so all instances are released at the same moment the test commits. Each
 * then answers the raced step (setStepSuccess or setStepFailure) and writes
 * what the call returned to answer_outcome. Prints "ready" once listening.
 */
import { initModules } from "@medusajs/test-utils"
import { Modules } from "@medusajs/framework/utils"
import { Client } from "pg"
import path from "path"
import {
  ANSWER_RACE_CHANNEL,
  ANSWER_RACE_WF,
  GATE_APPLICATION,
  RACED_STEP,
} from "./answer-race-ids"

const instance = process.env.INSTANCE_NAME!
const databaseUrl = process.env.DATABASE_URL!

async function main() {
  const { medusaApp } = await initModules({
    modulesConfig: {
      [Modules.WORKFLOW_ENGINE]: {
        resolve: path.join(__dirname, "../../../src/modules/workflow-engine"),
      },
    },
    databaseConfig: { clientUrl: databaseUrl, schema: "public" },
    preventConnectionDestroyWarning: true,
  })
  require("./answer-race-workflow")
  const engine = medusaApp.modules[Modules.WORKFLOW_ENGINE]

  const start = async (round: number) => {
    const client = await connect("answer-race")
    const { rows } = await client.query(
      `SELECT transaction_id, starter FROM answer_round WHERE round = $1`,
      [round]
    )
    await client.end()
    if (rows[0].starter === instance) {
      await engine.run(ANSWER_RACE_WF, {
        transactionId: rows[0].transaction_id,
        input: { key: rows[0].transaction_id },
        throwOnError: false,
      })
    }
  }

  const answer = async (round: number) => {
    const gate = await connect(GATE_APPLICATION)
    const { rows } = await gate.query(
      `SELECT transaction_id, answers ->> $2 AS answer FROM answer_round WHERE round = $1 FOR SHARE`,
      [round, instance]
    )
    await gate.end()
    const { transaction_id: transactionId, answer } = rows[0]
    const idempotencyKey = {
      workflowId: ANSWER_RACE_WF,
      transactionId,
      stepId: RACED_STEP,
      action: "invoke",
    }
    let outcome: { ok: boolean; type?: string; message?: string }
    // Not thrown: a failure that is applied comes back as the run's error, a refused answer is thrown.
    const options = { throwOnError: false }
    try {
      if (answer === "failure") {
        await engine.setStepFailure({
          idempotencyKey,
          stepResponse: new Error(`declined by ${instance}`),
          options,
        })
      } else {
        await engine.setStepSuccess({
          idempotencyKey,
          stepResponse: { by: instance },
          options,
        })
      }
      outcome = { ok: true }
    } catch (error: any) {
      outcome = {
        ok: false,
        type: error?.type ?? error?.name,
        message: String(error?.message ?? error),
      }
    }
    const client = await connect("answer-race")
    await client.query(
      `INSERT INTO answer_outcome (round, instance, ok, error_type, error_message) VALUES ($1, $2, $3, $4, $5)`,
      [
        round,
        instance,
        outcome.ok,
        outcome.type ?? null,
        outcome.message ?? null,
      ]
    )
    await client.end()
  }

  const listener = await connect("answer-race-listener")
  listener.on("notification", ({ payload }) => {
    const { round, phase } = JSON.parse(payload!)
    const work = phase === "start" ? start(round) : answer(round)
    work.catch((error) => console.error(`round ${round} ${phase}:`, error))
  })
  await listener.query(`LISTEN ${ANSWER_RACE_CHANNEL}`)

  process.stdout.write("ready\n")
  process.on("SIGTERM", () => {
    void listener
      .end()
      .then(() => medusaApp.onApplicationShutdown())
      .then(() => process.exit(0))
  })
}

async function connect(application: string): Promise<Client> {
  const client = new Client({
    connectionString: databaseUrl,
    application_name: `${application}:${instance}`,
  })
  await client.connect()
  return client
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
