import {
  defineMiddlewares,
  validateAndTransformBody,
  validateAndTransformQuery,
} from "@medusajs/framework/http"
import {
  AdminGetExecutionRetentionParams,
  AdminGetExecutionsParams,
  AdminGetExecutionStorageParams,
  AdminGetPurgesParams,
  AdminPostCancelExecution,
  AdminPostErase,
  AdminPostPurge,
  AdminPostRetryStep,
  AdminGetBulkActionsParams,
  AdminPostBulkAction,
  AdminPostKeepExecution,
} from "./admin/workflow-engine/validators"

/** Every body and query of the plugin's admin routes is checked here; a bad field is a 400 naming it. */
export default defineMiddlewares({
  routes: [
    {
      method: ["GET"],
      matcher: "/admin/workflow-engine/storage",
      middlewares: [
        validateAndTransformQuery(AdminGetExecutionStorageParams, {
          isList: false,
          defaults: [],
        }),
      ],
    },
    {
      method: ["POST"],
      matcher: "/admin/workflow-engine/purge",
      middlewares: [validateAndTransformBody(AdminPostPurge)],
    },
    {
      method: ["POST"],
      matcher: "/admin/workflow-engine/erase",
      middlewares: [validateAndTransformBody(AdminPostErase)],
    },
    {
      method: ["GET"],
      matcher: "/admin/workflow-engine/purges",
      middlewares: [
        validateAndTransformQuery(AdminGetPurgesParams, {
          isList: true,
          defaults: [],
          defaultLimit: 20,
        }),
      ],
    },
    {
      method: ["GET"],
      matcher: "/admin/workflow-engine/executions",
      middlewares: [
        validateAndTransformQuery(AdminGetExecutionsParams, {
          isList: true,
          defaults: [],
          defaultLimit: 20,
        }),
      ],
    },
    {
      method: ["GET"],
      matcher: "/admin/workflow-engine/executions/:id/retention",
      middlewares: [
        validateAndTransformQuery(AdminGetExecutionRetentionParams, {
          isList: false,
          defaults: [],
        }),
      ],
    },
    {
      method: ["POST"],
      matcher: "/admin/workflow-engine/executions/:id/cancel",
      middlewares: [validateAndTransformBody(AdminPostCancelExecution)],
    },
    {
      method: ["POST"],
      matcher: "/admin/workflow-engine/executions/:id/steps/retry",
      middlewares: [validateAndTransformBody(AdminPostRetryStep)],
    },
    {
      method: ["POST"],
      matcher: "/admin/workflow-engine/bulk",
      middlewares: [validateAndTransformBody(AdminPostBulkAction)],
    },
    {
      method: ["GET"],
      matcher: "/admin/workflow-engine/bulk-actions",
      middlewares: [
        validateAndTransformQuery(AdminGetBulkActionsParams, {
          isList: true,
          defaults: [],
          defaultLimit: 20,
        }),
      ],
    },
    {
      method: ["POST"],
      matcher: "/admin/workflow-engine/executions/:id/keep",
      middlewares: [validateAndTransformBody(AdminPostKeepExecution)],
    },
  ],
})
