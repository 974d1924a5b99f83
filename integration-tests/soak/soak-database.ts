import { Pool } from "pg"
import { migrateDatabase } from "../cluster/__fixtures__/migrate-database"
import { RestartablePostgres } from "../cluster/__fixtures__/restartable-postgres"
import { SOAK_LOG_TABLE } from "./__fixtures__/soak-workflows-ids"

/**
 * What the checks read besides the engine's own tables, installed in the
 * soak's own database only: every row deleted from workflow_execution as it
 * was when deleted (what tells a run removed by its own retention, finished
 * and past its expiry, from a lost one); every write of a timer row; and
 * which process each engine instance id is (its pid).
 */
const AUDIT = [
  `CREATE TABLE soak_deleted (
     transaction_id text NOT NULL, workflow_id text NOT NULL, state text NOT NULL, retention_time int,
     updated_at timestamptz, expires_at timestamptz, deleted_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
  `CREATE FUNCTION soak_record_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     INSERT INTO soak_deleted (transaction_id, workflow_id, state, retention_time, updated_at, expires_at)
     VALUES (OLD.transaction_id, OLD.workflow_id, OLD.state, OLD.retention_time, OLD.updated_at, OLD.expires_at);
     RETURN OLD;
   END $$`,
  `CREATE TRIGGER soak_record_deleted AFTER DELETE ON workflow_execution FOR EACH ROW EXECUTE FUNCTION soak_record_deleted()`,
  `CREATE TABLE soak_timer_event (
     op text NOT NULL, key text NOT NULL, kind text NOT NULL, transaction_id text NOT NULL, due_at timestamptz,
     claimed_by text, at timestamptz NOT NULL DEFAULT clock_timestamp())`,
  `CREATE FUNCTION soak_record_timer() RETURNS trigger LANGUAGE plpgsql AS $$
   DECLARE timer workflow_execution_timer := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
   BEGIN
     INSERT INTO soak_timer_event (op, key, kind, transaction_id, due_at, claimed_by)
     VALUES (TG_OP, timer.key, timer.kind, timer.transaction_id, timer.due_at, timer.claimed_by);
     RETURN timer;
   END $$`,
  `CREATE TRIGGER soak_record_timer AFTER INSERT OR UPDATE OR DELETE ON workflow_execution_timer
     FOR EACH ROW EXECUTE FUNCTION soak_record_timer()`,
  `CREATE TABLE soak_instance (id text PRIMARY KEY, pid int NOT NULL)`,
  `CREATE FUNCTION soak_record_instance() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     INSERT INTO soak_instance (id, pid) VALUES (NEW.id, NEW.pid) ON CONFLICT (id) DO NOTHING;
     RETURN NEW;
   END $$`,
  `CREATE TRIGGER soak_record_instance AFTER INSERT ON workflow_engine_instance FOR EACH ROW EXECUTE FUNCTION soak_record_instance()`,
]

/** The soak's own Postgres server (never the machine's), migrated, which the soak restarts once. */
export class SoakDatabase {
  private pool: Pool

  private constructor(
    private readonly server: RestartablePostgres,
    readonly url: string
  ) {
    this.pool = SoakDatabase.openPool(url)
  }

  static async start(): Promise<SoakDatabase> {
    const server = await RestartablePostgres.start()
    try {
      const url = await server.createDatabase("soak")
      await migrateDatabase(url)
      const database = new SoakDatabase(server, url)
      for (const statement of [SOAK_LOG_TABLE, ...AUDIT]) {
        await database.query(statement)
      }
      return database
    } catch (error) {
      await server.destroy()
      throw error
    }
  }

  private static openPool(url: string): Pool {
    const pool = new Pool({ connectionString: url, max: 3 })
    // The restart cuts idle clients too; the next query opens a new one.
    pool.on("error", () => undefined)
    return pool
  }

  async query<T = any>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.pool.query(sql, params)).rows
  }

  /** A fast shutdown (every session ended), `outageMs` down, and a start on the same data folder and port. */
  async restart(outageMs: number): Promise<void> {
    await this.server.stop()
    await new Promise((resolve) => setTimeout(resolve, outageMs))
    await this.server.resume()
  }

  async destroy(): Promise<void> {
    await this.pool.end().catch(() => undefined)
    await this.server.destroy()
  }
}
