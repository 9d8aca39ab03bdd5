CREATE TYPE "public"."workspace_build_status" AS ENUM('pending', 'running', 'succeeded', 'failed', 'canceled');--> statement-breakpoint
CREATE TYPE "public"."workspace_build_transition" AS ENUM('start', 'stop', 'delete');--> statement-breakpoint
CREATE TYPE "public"."provisioner_kind" AS ENUM('local', 'command');--> statement-breakpoint
CREATE TYPE "public"."workspace_share_role" AS ENUM('read', 'use');--> statement-breakpoint
CREATE TABLE "chat_diff_statuses" (
	"chat_id" uuid PRIMARY KEY NOT NULL,
	"url" text,
	"git_branch" text DEFAULT '' NOT NULL,
	"git_remote_origin" text DEFAULT '' NOT NULL,
	"stale_at" timestamp with time zone DEFAULT now() NOT NULL,
	"refreshed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "external_auth_links" (
	"user_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"sealed_token" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "external_auth_links_user_id_provider_pk" PRIMARY KEY("user_id","provider")
);
--> statement-breakpoint
CREATE TABLE "templates" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"display_name" text DEFAULT '' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"icon" text DEFAULT '' NOT NULL,
	"provisioner" "provisioner_kind" DEFAULT 'local' NOT NULL,
	"setup_script" text DEFAULT '' NOT NULL,
	"start_command" text DEFAULT '' NOT NULL,
	"stop_command" text DEFAULT '' NOT NULL,
	"parameters" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"deprecated" boolean DEFAULT false NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "workspace_agents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"build_id" uuid NOT NULL,
	"token_id" text NOT NULL,
	"hashed_secret" "bytea" NOT NULL,
	"replica_id" uuid,
	"first_connected_at" timestamp with time zone,
	"last_connected_at" timestamp with time zone,
	"disconnected_at" timestamp with time zone,
	"last_heartbeat_at" timestamp with time zone,
	"version" text DEFAULT '' NOT NULL,
	"operating_system" text DEFAULT '' NOT NULL,
	"directory" text DEFAULT '' NOT NULL,
	"pid" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "workspace_builds" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"build_number" integer NOT NULL,
	"transition" "workspace_build_transition" NOT NULL,
	"status" "workspace_build_status" DEFAULT 'pending' NOT NULL,
	"initiator_id" uuid,
	"runner_id" uuid,
	"log" text DEFAULT '' NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "workspace_shares" (
	"workspace_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"role" "workspace_share_role" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "workspace_shares_workspace_id_user_id_pk" PRIMARY KEY("workspace_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "workspaces" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_id" uuid NOT NULL,
	"template_id" uuid NOT NULL,
	"name" text NOT NULL,
	"parameters" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"ttl_ms" bigint,
	"last_used_at" timestamp with time zone,
	"deleted" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "chat_diff_statuses" ADD CONSTRAINT "chat_diff_statuses_chat_id_chats_id_fk" FOREIGN KEY ("chat_id") REFERENCES "public"."chats"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "external_auth_links" ADD CONSTRAINT "external_auth_links_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "templates" ADD CONSTRAINT "templates_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_agents" ADD CONSTRAINT "workspace_agents_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_agents" ADD CONSTRAINT "workspace_agents_build_id_workspace_builds_id_fk" FOREIGN KEY ("build_id") REFERENCES "public"."workspace_builds"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_builds" ADD CONSTRAINT "workspace_builds_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_builds" ADD CONSTRAINT "workspace_builds_initiator_id_users_id_fk" FOREIGN KEY ("initiator_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_shares" ADD CONSTRAINT "workspace_shares_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_shares" ADD CONSTRAINT "workspace_shares_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspaces" ADD CONSTRAINT "workspaces_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspaces" ADD CONSTRAINT "workspaces_template_id_templates_id_fk" FOREIGN KEY ("template_id") REFERENCES "public"."templates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "chat_diff_statuses_stale_at_idx" ON "chat_diff_statuses" USING btree ("stale_at");--> statement-breakpoint
CREATE UNIQUE INDEX "templates_name_idx" ON "templates" USING btree (lower("name")) WHERE NOT "templates"."deleted";--> statement-breakpoint
CREATE UNIQUE INDEX "workspace_agents_token_id_idx" ON "workspace_agents" USING btree ("token_id");--> statement-breakpoint
CREATE INDEX "workspace_agents_workspace_id_idx" ON "workspace_agents" USING btree ("workspace_id");--> statement-breakpoint
CREATE UNIQUE INDEX "workspace_builds_number_idx" ON "workspace_builds" USING btree ("workspace_id","build_number");--> statement-breakpoint
CREATE INDEX "workspace_shares_user_id_idx" ON "workspace_shares" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "workspaces_owner_name_idx" ON "workspaces" USING btree ("owner_id",lower("name")) WHERE NOT "workspaces"."deleted";--> statement-breakpoint
CREATE INDEX "workspaces_template_id_idx" ON "workspaces" USING btree ("template_id");--> statement-breakpoint
ALTER TABLE "chats" ADD CONSTRAINT "chats_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE set null ON UPDATE no action;