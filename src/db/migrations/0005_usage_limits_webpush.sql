CREATE TABLE "chat_usage_limit_config" (
	"singleton" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"enabled" boolean DEFAULT false NOT NULL,
	"default_limit_micros" bigint DEFAULT 0 NOT NULL,
	"period" text DEFAULT 'month' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "chat_usage_limit_config_singleton" CHECK ("chat_usage_limit_config"."singleton"),
	CONSTRAINT "chat_usage_limit_config_limit_non_negative" CHECK ("chat_usage_limit_config"."default_limit_micros" >= 0),
	CONSTRAINT "chat_usage_limit_config_period" CHECK ("chat_usage_limit_config"."period" IN ('day', 'week', 'month'))
);
--> statement-breakpoint
CREATE TABLE "webpush_subscriptions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"endpoint" text NOT NULL,
	"auth_key" text NOT NULL,
	"p256dh_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "groups" ADD COLUMN "chat_spend_limit_micros" bigint;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "chat_spend_limit_micros" bigint;--> statement-breakpoint
ALTER TABLE "webpush_subscriptions" ADD CONSTRAINT "webpush_subscriptions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "webpush_subscriptions_endpoint_idx" ON "webpush_subscriptions" USING btree ("endpoint");--> statement-breakpoint
CREATE INDEX "webpush_subscriptions_user_id_idx" ON "webpush_subscriptions" USING btree ("user_id");--> statement-breakpoint
ALTER TABLE "groups" ADD CONSTRAINT "groups_chat_spend_limit_positive" CHECK ("groups"."chat_spend_limit_micros" IS NULL OR "groups"."chat_spend_limit_micros" > 0);--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_chat_spend_limit_positive" CHECK ("users"."chat_spend_limit_micros" IS NULL OR "users"."chat_spend_limit_micros" > 0);