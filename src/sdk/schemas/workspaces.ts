/**
 * Templates, workspaces, builds, agents and shares as the API shows them (PRODUCT.md "Contract
 * details"). No token, token id or token hash ever appears here: these list every field that may
 * leave the server, and the routes parse responses through them.
 */
import { z } from "zod";

const timestamp = () => z.iso.datetime({ offset: true });

export const PROVISIONERS = ["local", "command"] as const;
export type ProvisionerKind = (typeof PROVISIONERS)[number];

export const PARAMETER_TYPES = ["string", "number", "bool"] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];
/** Long enough for a URL or a path, short enough to fit comfortably in an environment. */
export const MAX_PARAMETER_VALUE_LENGTH = 4096;
export const parameterValueSchema = z.union([z.string().max(MAX_PARAMETER_VALUE_LENGTH), z.number(), z.boolean()]);
export type ParameterValue = z.infer<typeof parameterValueSchema>;
export type ParameterValues = Record<string, ParameterValue>;
export const parameterValuesSchema = z.record(z.string(), parameterValueSchema);

const templateParameterResponseSchema = z.object({
  name: z.string(),
  display_name: z.string().optional(),
  description: z.string().optional(),
  type: z.enum(PARAMETER_TYPES),
  required: z.boolean(),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  options: z.array(z.object({ name: z.string(), value: z.union([z.string(), z.number(), z.boolean()]), description: z.string().optional() })).optional(),
  validation_regex: z.string().optional(),
  validation_min: z.number().optional(),
  validation_max: z.number().optional(),
  mutable: z.boolean(),
  ephemeral: z.boolean().optional(),
});

export const templateResponseSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    display_name: z.string(),
    description: z.string(),
    icon: z.string(),
    provisioner: z.enum(PROVISIONERS),
    setup_script: z.string(),
    /** Only for those who may update the template: an admin's command may name hosts or paths. */
    start_command: z.string().optional(),
    stop_command: z.string().optional(),
    parameters: z.array(templateParameterResponseSchema),
    deprecated: z.boolean(),
    /** Distinct owners of live workspaces made from this template. */
    active_developers: z.number().int(),
    /** Local templates only: whether their workspaces run inside bubblewrap. */
    isolated: z.boolean().optional(),
    warnings: z.array(z.string()),
    created_by: z.uuid().nullable(),
    created_at: timestamp(),
    updated_at: timestamp(),
  })
  .meta({ id: "Template" });
export type TemplateResponse = z.infer<typeof templateResponseSchema>;

export const BUILD_TRANSITIONS = ["start", "stop", "delete"] as const;
export type BuildTransition = (typeof BUILD_TRANSITIONS)[number];
export const BUILD_STATUSES = ["pending", "running", "succeeded", "failed", "canceled"] as const;
export type BuildStatus = (typeof BUILD_STATUSES)[number];
export const WORKSPACE_STATUSES = ["pending", "starting", "running", "stopping", "stopped", "failed", "deleting", "deleted"] as const;
export type WorkspaceStatus = (typeof WORKSPACE_STATUSES)[number];

export const buildSummarySchema = z.object({
  id: z.uuid(),
  build_number: z.number().int(),
  transition: z.enum(BUILD_TRANSITIONS),
  status: z.enum(BUILD_STATUSES),
  error: z.string().nullable(),
  created_at: timestamp(),
  started_at: timestamp().nullable(),
  completed_at: timestamp().nullable(),
});
export type BuildSummary = z.infer<typeof buildSummarySchema>;

export const buildResponseSchema = buildSummarySchema
  .extend({ workspace_id: z.uuid(), initiator_id: z.uuid().nullable() })
  .meta({ id: "WorkspaceBuild" });
export type BuildResponse = z.infer<typeof buildResponseSchema>;

export const buildWithLogResponseSchema = buildResponseSchema.extend({ log: z.string() }).meta({ id: "WorkspaceBuildWithLog" });
export type BuildWithLogResponse = z.infer<typeof buildWithLogResponseSchema>;

export const AGENT_STATUSES = ["connecting", "connected", "disconnected"] as const;
export const agentResponseSchema = z.object({
  id: z.uuid(),
  status: z.enum(AGENT_STATUSES),
  version: z.string(),
  operating_system: z.string(),
  directory: z.string(),
  last_heartbeat_at: timestamp().nullable(),
});
export type AgentResponse = z.infer<typeof agentResponseSchema>;

/** Ready when `status` is `running` and `agent.status` is `connected`. */
export const workspaceResponseSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    owner_id: z.uuid(),
    owner_name: z.string(),
    template_id: z.uuid(),
    template_name: z.string(),
    template_display_name: z.string(),
    parameters: parameterValuesSchema,
    latest_build: buildSummarySchema.nullable(),
    agent: agentResponseSchema.nullable(),
    status: z.enum(WORKSPACE_STATUSES),
    last_used_at: timestamp().nullable(),
    ttl_ms: z.number().int().nullable(),
    created_at: timestamp(),
    updated_at: timestamp(),
  })
  .meta({ id: "Workspace" });
export type WorkspaceResponse = z.infer<typeof workspaceResponseSchema>;

/** `use` = ssh and application_connect on the workspace; `read` = seeing it. */
export const SHARE_ROLES = ["read", "use"] as const;
export type ShareRole = (typeof SHARE_ROLES)[number];

export const shareResponseSchema = z
  .object({
    user_id: z.uuid(),
    username: z.string(),
    name: z.string(),
    role: z.enum(SHARE_ROLES),
    created_at: timestamp(),
  })
  .meta({ id: "WorkspaceShare" });
export type ShareResponse = z.infer<typeof shareResponseSchema>;
