CREATE TABLE "chat_model_configs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"provider" text NOT NULL,
	"model" text NOT NULL,
	"display_name" text DEFAULT '' NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	"enabled" boolean DEFAULT true NOT NULL,
	"is_default" boolean DEFAULT false NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"context_limit" bigint NOT NULL,
	"compression_threshold" integer DEFAULT 70 NOT NULL,
	"options" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "chat_model_configs_context_limit_check" CHECK ("chat_model_configs"."context_limit" > 0),
	CONSTRAINT "chat_model_configs_compression_threshold_check" CHECK ("chat_model_configs"."compression_threshold" BETWEEN 0 AND 100)
);
--> statement-breakpoint
CREATE TABLE "chat_providers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"provider" text NOT NULL,
	"display_name" text DEFAULT '' NOT NULL,
	"api_key_sealed" text DEFAULT '' NOT NULL,
	"created_by" uuid,
	"enabled" boolean DEFAULT true NOT NULL,
	"base_url" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "chat_providers_provider_unique" UNIQUE("provider"),
	CONSTRAINT "chat_providers_provider_check" CHECK ("chat_providers"."provider" IN ('openai', 'anthropic', 'google', 'openai-compat'))
);
--> statement-breakpoint
ALTER TABLE "chat_model_configs" ADD CONSTRAINT "chat_model_configs_provider_chat_providers_provider_fk" FOREIGN KEY ("provider") REFERENCES "public"."chat_providers"("provider") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_model_configs" ADD CONSTRAINT "chat_model_configs_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_model_configs" ADD CONSTRAINT "chat_model_configs_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_providers" ADD CONSTRAINT "chat_providers_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "chat_model_configs_single_default_idx" ON "chat_model_configs" USING btree ((1)) WHERE "chat_model_configs"."is_default" AND NOT "chat_model_configs"."deleted";--> statement-breakpoint
CREATE INDEX "chat_model_configs_provider_idx" ON "chat_model_configs" USING btree ("provider");