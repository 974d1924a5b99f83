import { waitUntil } from "../modules/__fixtures__/engine"
import { RunningDemo } from "./running-demo"

export type Execution = {
  workflow_id: string
  transaction_id: string
  state: string
}

/** A GET of the demo's admin API, logged in: resolves to the answer's JSON. */
export type AdminGet = <T>(path: string) => Promise<T>

/** Logs in with the credentials the demo printed. */
export async function logInToAdminApi({
  port,
  email,
  password,
}: RunningDemo): Promise<AdminGet> {
  const login = await fetch(`http://localhost:${port}/auth/user/emailpass`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  })
  if (login.status !== 200) {
    throw new Error(`Logging in to the demo's admin API: HTTP ${login.status}`)
  }
  const { token } = (await login.json()) as { token: string }
  return async <T>(path: string) => {
    const response = await fetch(`http://localhost:${port}${path}`, {
      headers: { authorization: `Bearer ${token}` },
    })
    if (response.status !== 200) {
      throw new Error(
        `GET ${path} of the demo's admin API: HTTP ${response.status}`
      )
    }
    return (await response.json()) as T
  }
}

/** The stored executions, as the admin API lists them. */
export function executionLister(get: AdminGet): () => Promise<Execution[]> {
  return async () =>
    (
      await get<{ workflow_executions: Execution[] }>(
        "/admin/workflows-executions?limit=100&fields=workflow_id,transaction_id,state"
      )
    ).workflow_executions
}

const RETRIED_CAPTURES_DEADLINE_MS = 60 * 1000

/**
 * Every seeded capture fails its first attempt and is retried by the server
 * on a timer the seed's process armed (taken over once that process's lease
 * ran out): resolves once the three captured ones are done.
 */
export async function seededCapturesRetried(
  listExecutions: () => Promise<Execution[]>
): Promise<void> {
  await waitUntil(
    async () =>
      (await listExecutions()).filter(
        ({ workflow_id, state }) =>
          workflow_id === "capture-payment" && state === "done"
      ).length === 3,
    RETRIED_CAPTURES_DEADLINE_MS,
    { what: "The retried captures", everyMs: 1000 }
  )
}
