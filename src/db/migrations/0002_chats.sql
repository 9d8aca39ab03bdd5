CREATE TYPE "public"."chat_message_role" AS ENUM('system', 'user', 'assistant', 'tool');--> statement-breakpoint
CREATE TYPE "public"."chat_message_visibility" AS ENUM('user', 'model', 'both');--> statement-breakpoint
CREATE TYPE "public"."chat_status" AS ENUM('waiting', 'pending', 'running', 'paused', 'completed', 'error');--> statement-breakpoint
CREATE TABLE "chat_files" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"mimetype" text NOT NULL,
	"data" "bytea" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "chat_messages" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chat_id" uuid NOT NULL,
	"model_config_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"role" "chat_message_role" NOT NULL,
	"content" jsonb,
	"visibility" "chat_message_visibility" DEFAULT 'both' NOT NULL,
	"input_tokens" bigint,
	"output_tokens" bigint,
	"total_tokens" bigint,
	"reasoning_tokens" bigint,
	"cache_creation_tokens" bigint,
	"cache_read_tokens" bigint,
	"context_limit" bigint,
	"compressed" boolean DEFAULT false NOT NULL,
	"created_by" uuid,
	"content_version" smallint NOT NULL,
	"total_cost_micros" bigint,
	"runtime_ms" bigint,
	"deleted" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "chat_queued_messages" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chat_id" uuid NOT NULL,
	"content" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "chats" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_id" uuid NOT NULL,
	"workspace_id" uuid,
	"title" text DEFAULT 'New Chat' NOT NULL,
	"status" "chat_status" DEFAULT 'waiting' NOT NULL,
	"worker_id" uuid,
	"started_at" timestamp with time zone,
	"heartbeat_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"parent_chat_id" uuid,
	"root_chat_id" uuid,
	"last_model_config_id" uuid NOT NULL,
	"archived" boolean DEFAULT false NOT NULL,
	"last_error" text,
	"mcp_server_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL
);
--> statement-breakpoint
ALTER TABLE "chat_files" ADD CONSTRAINT "chat_files_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_messages" ADD CONSTRAINT "chat_messages_chat_id_chats_id_fk" FOREIGN KEY ("chat_id") REFERENCES "public"."chats"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_messages" ADD CONSTRAINT "chat_messages_model_config_id_chat_model_configs_id_fk" FOREIGN KEY ("model_config_id") REFERENCES "public"."chat_model_configs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_queued_messages" ADD CONSTRAINT "chat_queued_messages_chat_id_chats_id_fk" FOREIGN KEY ("chat_id") REFERENCES "public"."chats"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chats" ADD CONSTRAINT "chats_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chats" ADD CONSTRAINT "chats_parent_chat_id_chats_id_fk" FOREIGN KEY ("parent_chat_id") REFERENCES "public"."chats"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chats" ADD CONSTRAINT "chats_root_chat_id_chats_id_fk" FOREIGN KEY ("root_chat_id") REFERENCES "public"."chats"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chats" ADD CONSTRAINT "chats_last_model_config_id_chat_model_configs_id_fk" FOREIGN KEY ("last_model_config_id") REFERENCES "public"."chat_model_configs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "chat_files_owner_id_idx" ON "chat_files" USING btree ("owner_id");--> statement-breakpoint
CREATE INDEX "chat_messages_chat_id_id_idx" ON "chat_messages" USING btree ("chat_id","id");--> statement-breakpoint
CREATE INDEX "chat_messages_chat_id_created_at_idx" ON "chat_messages" USING btree ("chat_id","created_at");--> statement-breakpoint
CREATE INDEX "chat_messages_compressed_summary_idx" ON "chat_messages" USING btree ("chat_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "chat_messages"."compressed" AND "chat_messages"."role" = 'system' AND "chat_messages"."visibility" IN ('model', 'both');--> statement-breakpoint
CREATE INDEX "chat_messages_created_at_idx" ON "chat_messages" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "chat_messages_cost_idx" ON "chat_messages" USING btree ("chat_id","created_at") WHERE "chat_messages"."total_cost_micros" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "chat_queued_messages_chat_id_id_idx" ON "chat_queued_messages" USING btree ("chat_id","id");--> statement-breakpoint
CREATE INDEX "chats_owner_id_idx" ON "chats" USING btree ("owner_id");--> statement-breakpoint
CREATE INDEX "chats_workspace_id_idx" ON "chats" USING btree ("workspace_id");--> statement-breakpoint
CREATE INDEX "chats_pending_idx" ON "chats" USING btree ("updated_at") WHERE "chats"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "chats_running_heartbeat_idx" ON "chats" USING btree ("heartbeat_at") WHERE "chats"."status" = 'running';--> statement-breakpoint
CREATE INDEX "chats_parent_chat_id_idx" ON "chats" USING btree ("parent_chat_id");--> statement-breakpoint
CREATE INDEX "chats_root_chat_id_idx" ON "chats" USING btree ("root_chat_id");--> statement-breakpoint
CREATE INDEX "chats_last_model_config_id_idx" ON "chats" USING btree ("last_model_config_id");--> statement-breakpoint
CREATE INDEX "chats_owner_updated_idx" ON "chats" USING btree ("owner_id","updated_at" DESC NULLS LAST,"id" DESC NULLS LAST);