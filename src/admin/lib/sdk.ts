import Medusa from "@medusajs/js-sdk"

// Set by the admin's build to the backend URL it was configured with.
declare const __BACKEND_URL__: string | undefined

/** The admin's own client: same origin (or the configured backend) and the admin's session cookie. */
export const sdk = new Medusa({
  baseUrl:
    typeof __BACKEND_URL__ === "string" && __BACKEND_URL__
      ? __BACKEND_URL__
      : "/",
  auth: { type: "session" },
})
