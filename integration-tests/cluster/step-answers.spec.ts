import { moduleIntegrationTestRunner } from "../modules/__fixtures__/module-runner"
import { IWorkflowEngineService } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"
import {
  knexOf,
  MIGRATIONS_PATH,
  MODULE_PATH,
  TEST_DATABASE,
  waitUntil,
} from "../modules/__fixtures__/engine"
import {
  AFTER_STEP,
  ANSWER_RACE_CHANNEL,
  ANSWER_RACE_TABLES,
  GATE_APPLICATION,
  RACED_STEP,
} from "./__fixtures__/answer-race-ids"
import { Instance, kill, startInstance } from "./__fixtures__/instances"

jest.setTimeout(300000)

type Answer = "success" | "failure"
type Outcome = {
  instance: string
  ok: boolean
  error_type: string | null
  error_message: string | null
}

const RACED = `_root.${RACED_STEP}`
const AFTER = `_root.${RACED_STEP}.${AFTER_STEP}`

/*
 * Two engine instances, each its own OS process, answer the same waiting
 * step of a stored run at the same moment. The answer must be applied once:
 * the step after it runs once (or not at all when a failure wins), the run
 * ends in one state that agrees with the winning answer, and the other
 * caller is told the step was already answered.
 */
moduleIntegrationTestRunner<IWorkflowEngineService>({
  dbName: TEST_DATABASE,
  moduleName: Modules.WORKFLOW_ENGINE,
  resolve: MODULE_PATH,
  pathToMigrations: MIGRATIONS_PATH,
  testSuite: ({ service: engine, medusaApp, dbConfig }) => {
    const db = () => knexOf(medusaApp)
    let instances: Instance[] = []

    beforeEach(async () => {
      await (engine as any).__hooks.onApplicationShutdown()
      await db().raw(ANSWER_RACE_TABLES)
      instances = await Promise.all(
        ["a", "b"].map((name) =>
          startInstance(
            name,
            { DATABASE_URL: dbConfig.clientUrl },
            "answering-instance.ts"
          )
        )
      )
    })

    afterEach(async () => {
      await Promise.all(instances.map(kill))
      instances = []
    })

    const tell = (round: number, phase: "start" | "answer") =>
      db().raw(`SELECT pg_notify(?, ?)`, [
        ANSWER_RACE_CHANNEL,
        JSON.stringify({ round, phase }),
      ])
    const rowsOf = async (transactionId: string) =>
      (
        await db().raw(
          `SELECT state, execution, context FROM workflow_execution WHERE transaction_id = ?`,
          [transactionId]
        )
      ).rows
    const outcomesOf = async (round: number): Promise<Outcome[]> =>
      (
        await db().raw(
          `SELECT * FROM answer_outcome WHERE round = ? ORDER BY instance`,
          [round]
        )
      ).rows
    const logOf = async (transactionId: string) =>
      (
        await db().raw(
          `SELECT instance, answered_by FROM answer_log WHERE transaction_id = ?`,
          [transactionId]
        )
      ).rows
    const atGate = async () =>
      (
        await db().raw(
          `SELECT count(*)::int AS waiting FROM pg_stat_activity
            WHERE application_name LIKE ? AND wait_event_type = 'Lock'`,
          [`${GATE_APPLICATION}:%`]
        )
      ).rows[0].waiting

    /** One round: a fresh run waits at the raced step; both instances are released at once to answer it. */
    const race = async (round: number, answers: Record<string, Answer>) => {
      const transactionId = `answer-race-${round}`
      const starter = round % 2 ? "a" : "b"
      await db().raw(`INSERT INTO answer_round VALUES (?, ?, ?, ?::jsonb)`, [
        round,
        transactionId,
        starter,
        JSON.stringify(answers),
      ])
      await tell(round, "start")
      await waitUntil(
        async () =>
          (await rowsOf(transactionId))[0]?.execution.steps[RACED].invoke
            .status === "waiting_response"
      )

      // Both instances block on the round row behind this lock; committing releases them together.
      const gate = await db().transaction()
      try {
        await gate.raw(
          `SELECT 1 FROM answer_round WHERE round = ? FOR UPDATE`,
          [round]
        )
        await tell(round, "answer")
        await waitUntil(async () => (await atGate()) === 2)
      } finally {
        await gate.commit()
      }
      await waitUntil(async () => (await outcomesOf(round)).length === 2, 60000)
      return { transactionId, outcomes: await outcomesOf(round) }
    }

    /** What a round must end in, whoever won it. */
    const expectAppliedOnce = async (
      {
        transactionId,
        outcomes,
      }: { transactionId: string; outcomes: Outcome[] },
      answers: Record<string, Answer>
    ) => {
      const winners = outcomes.filter((outcome) => outcome.ok)
      expect(winners).toHaveLength(1)
      const [winner] = winners
      const [loser] = outcomes.filter((outcome) => !outcome.ok)
      expect(loser).toEqual({
        round: expect.any(Number),
        instance: expect.any(String),
        ok: false,
        error_type: "not_allowed",
        // Which refusal depends on how far the winner got when the loser loaded the run: its answer saved, or the run already done.
        error_message: expect.stringMatching(
          /already answered|not waiting|already finished/
        ),
      })

      const rows = await rowsOf(transactionId)
      expect(rows).toHaveLength(1)
      const [{ state, execution, context }] = rows
      const steps = execution.steps
      const log = await logOf(transactionId)

      if (answers[winner.instance] === "success") {
        expect(log).toHaveLength(1)
        expect(log[0].answered_by).toBe(winner.instance)
        expect(state).toBe("done")
        expect(execution.state).toBe("done")
        expect(steps[RACED].invoke).toEqual({ state: "done", status: "ok" })
        expect(steps[AFTER].invoke).toEqual({ state: "done", status: "ok" })
        expect(context.data.invoke[RACED_STEP]).toEqual({ by: winner.instance })
        expect(context.data.invoke[AFTER_STEP].output.output).toEqual({
          answeredBy: winner.instance,
        })
        expect(context.errors).toEqual([])
      } else {
        expect(log).toEqual([])
        // Nothing to compensate: the failed run ends reverted.
        expect(state).toBe("reverted")
        expect(execution.state).toBe("reverted")
        expect(steps[RACED].invoke).toEqual({
          state: "failed",
          status: "permanent_failure",
        })
        expect(steps[AFTER].invoke.state).toBe("not_started")
        expect(context.data.invoke[RACED_STEP]).toBeUndefined()
        expect(context.errors.map((e: any) => e.error?.message)).toEqual([
          `declined by ${winner.instance}`,
        ])
      }
    }

    it("applies one of two simultaneous setStepSuccess calls, 10 rounds; the other caller is told it was answered", async () => {
      const answers: Record<string, Answer> = { a: "success", b: "success" }
      for (let round = 1; round <= 10; round++) {
        await expectAppliedOnce(await race(round, answers), answers)
      }
      expect(
        instances.map((instance) => instance.output()).join("")
      ).not.toMatch(/round \d+/)
    })

    it("applies one of a setStepSuccess and a setStepFailure given at once, either way round", async () => {
      for (let round = 11; round <= 14; round++) {
        const answers: Record<string, Answer> =
          round % 2
            ? { a: "success", b: "failure" }
            : { a: "failure", b: "success" }
        await expectAppliedOnce(await race(round, answers), answers)
      }
      expect(
        instances.map((instance) => instance.output()).join("")
      ).not.toMatch(/round \d+/)
    })
  },
})
