import { createUserAccountWorkflow } from "@medusajs/medusa/core-flows"
import type { MedusaContainer } from "@medusajs/framework/types"

export const ADMIN_EMAIL = "admin@workflow-engine-postgres.test"
export const ADMIN_PASSWORD = "a-long-test-password"

export type AxiosLike = {
  get(
    url: string,
    config?: Record<string, unknown>
  ): Promise<{ status: number; data: any }>
  post(
    url: string,
    body?: unknown,
    config?: Record<string, unknown>
  ): Promise<{ status: number; data: any }>
}

/** Resolves to the response for any status, instead of rejecting on 4xx/5xx. */
export const anyStatus = { validateStatus: () => true }

/** The claims of a JWT, without checking its signature (the server does that). */
export function claimsOf(token: string): Record<string, any> {
  const [, payload] = token.split(".")
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8"))
}

/**
 * Creates an admin the way a real store gets one: an emailpass identity
 * registered over HTTP, a user attached to it by Medusa's own
 * createUserAccountWorkflow, then a login over HTTP for a token that carries
 * the user as actor.
 */
export async function createAdminAndLogin(
  api: AxiosLike,
  container: MedusaContainer
) {
  const registered = await api.post("/auth/user/emailpass/register", {
    email: ADMIN_EMAIL,
    password: ADMIN_PASSWORD,
  })
  const authIdentityId = claimsOf(registered.data.token).auth_identity_id
  expect(authIdentityId).toEqual(expect.any(String))

  const { result: user } = await createUserAccountWorkflow(container).run({
    input: { authIdentityId, userData: { email: ADMIN_EMAIL } },
  })

  const login = await api.post("/auth/user/emailpass", {
    email: ADMIN_EMAIL,
    password: ADMIN_PASSWORD,
  })
  const token: string = login.data.token
  expect(claimsOf(token)).toEqual(
    expect.objectContaining({ actor_type: "user", actor_id: user.id })
  )
  return {
    userId: user.id as string,
    headers: { authorization: `Bearer ${token}` },
  }
}
