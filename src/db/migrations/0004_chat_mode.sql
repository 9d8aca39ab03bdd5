CREATE TYPE "public"."chat_mode" AS ENUM('computer_use');--> statement-breakpoint
ALTER TABLE "chats" ADD COLUMN "mode" "chat_mode";