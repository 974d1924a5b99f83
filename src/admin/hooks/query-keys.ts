/** React Query keys of the plugin's resources, so a purge or an erase refreshes what it changed. */
export const queryKeys = {
  storage: ["workflow_engine", "storage"] as const,
  retention: (id: string) => ["workflow_engine", "retention", id] as const,
  executions: (query: Record<string, unknown>) =>
    ["workflow_engine", "executions", query] as const,
  // Medusa's admin keys its workflow execution list and details under this prefix.
  medusaExecutions: ["workflow_executions"] as const,
}
