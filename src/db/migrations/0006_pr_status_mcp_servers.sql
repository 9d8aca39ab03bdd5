CREATE TABLE "mcp_server_configs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"slug" text NOT NULL,
	"display_name" text DEFAULT '' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"transport" text DEFAULT 'streamable_http' NOT NULL,
	"url" text,
	"command" text,
	"args" text[] DEFAULT '{}'::text[] NOT NULL,
	"auth_type" text DEFAULT 'none' NOT NULL,
	"api_key_header" text,
	"api_key_sealed" text DEFAULT '' NOT NULL,
	"custom_headers_sealed" text DEFAULT '' NOT NULL,
	"oauth_client_id" text,
	"oauth_client_secret_sealed" text DEFAULT '' NOT NULL,
	"oauth_authorize_url" text,
	"oauth_token_url" text,
	"oauth_scopes" text DEFAULT '' NOT NULL,
	"tool_allow_list" text[] DEFAULT '{}'::text[] NOT NULL,
	"tool_deny_list" text[] DEFAULT '{}'::text[] NOT NULL,
	"availability" text DEFAULT 'default_off' NOT NULL,
	"enabled" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "mcp_server_configs_transport" CHECK ("mcp_server_configs"."transport" IN ('streamable_http', 'sse', 'stdio')),
	CONSTRAINT "mcp_server_configs_auth_type" CHECK ("mcp_server_configs"."auth_type" IN ('none', 'oauth2', 'api_key', 'custom_headers')),
	CONSTRAINT "mcp_server_configs_availability" CHECK ("mcp_server_configs"."availability" IN ('force_on', 'default_on', 'default_off'))
);
--> statement-breakpoint
CREATE TABLE "mcp_server_user_tokens" (
	"server_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"access_token_sealed" text NOT NULL,
	"refresh_token_sealed" text DEFAULT '' NOT NULL,
	"token_type" text DEFAULT 'Bearer' NOT NULL,
	"expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "mcp_server_user_tokens_server_id_user_id_pk" PRIMARY KEY("server_id","user_id")
);
--> statement-breakpoint
ALTER TABLE "chat_diff_statuses" ADD COLUMN "pull_request_state" text;--> statement-breakpoint
ALTER TABLE "chat_diff_statuses" ADD COLUMN "pull_request_title" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "chat_diff_statuses" ADD COLUMN "pull_request_draft" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "chat_diff_statuses" ADD COLUMN "pr_number" integer;--> statement-breakpoint
ALTER TABLE "chat_diff_statuses" ADD COLUMN "changes_requested" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "chat_diff_statuses" ADD COLUMN "approved" boolean;--> statement-breakpoint
ALTER TABLE "chat_diff_statuses" ADD COLUMN "reviewer_count" integer;--> statement-breakpoint
ALTER TABLE "chat_diff_statuses" ADD COLUMN "additions" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "chat_diff_statuses" ADD COLUMN "deletions" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "chat_diff_statuses" ADD COLUMN "changed_files" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "chat_diff_statuses" ADD COLUMN "commits" integer;--> statement-breakpoint
ALTER TABLE "chat_diff_statuses" ADD COLUMN "author_login" text;--> statement-breakpoint
ALTER TABLE "chat_diff_statuses" ADD COLUMN "author_avatar_url" text;--> statement-breakpoint
ALTER TABLE "chat_diff_statuses" ADD COLUMN "base_branch" text;--> statement-breakpoint
ALTER TABLE "chat_diff_statuses" ADD COLUMN "head_branch" text;--> statement-breakpoint
ALTER TABLE "chat_diff_statuses" ADD COLUMN "pr_created_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "chat_diff_statuses" ADD COLUMN "pr_merged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "chat_diff_statuses" ADD COLUMN "pr_closed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "mcp_server_user_tokens" ADD CONSTRAINT "mcp_server_user_tokens_server_id_mcp_server_configs_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."mcp_server_configs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mcp_server_user_tokens" ADD CONSTRAINT "mcp_server_user_tokens_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "mcp_server_configs_slug_idx" ON "mcp_server_configs" USING btree ("slug");